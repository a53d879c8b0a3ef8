//! EventBridge pattern matching: agent-mesh's `PatternSet` against the `quamina` crate on the same
//! events and patterns, single thread.
//!
//! `cargo bench -p agent-mesh --no-default-features --bench pattern [-- ROW]`, where `ROW` (say
//! `"100 exact"`) keeps only the rows whose label contains it.
//!
//! The corpus is 10,000 deterministic EventBridge envelopes (source, detail-type, resources and
//! a nested detail with an array of items). Pattern sets of 1, 100 and 10,000 patterns: exact
//! values and prefixes (typical rules, then only selective ones), then a mix adding `numeric` and
//! `anything-but`. Each row checks that both libraries (and agent-mesh from text and from
//! `Value`) report the same number of matches over the corpus, then measures events per second.
//!
//! The primary comparison is text to text: agent-mesh's `PatternSet::for_each_match_json` (which
//! parses only the fields the patterns look at) and quamina, on the same event text:
//!
//! - *cold*: one pass over the whole corpus after another (about 4 MB of text, more than the CPU
//!   caches hold).
//! - *warm*: groups of 32 events, each group matched 10 times over, so the events are in cache,
//!   as an event just received is when it is matched.
//!
//! Secondary: agent-mesh on already parsed `serde_json::Value` events (cold and warm: the corpus
//! is about 35 MB as `Value`s, so cold measures memory latency as much as matching), and on text
//! fully parsed with `serde_json::from_str` before matching.

use std::hint::black_box;
use std::time::{Duration, Instant};

use agent_mesh::{EventPattern, PatternSet};
use serde_json::{Value, json};

const EVENTS: usize = 10_000;
const MIN_TIME: Duration = Duration::from_millis(500);
/// Events per warm group, and how many times a group is matched.
const GROUP: usize = 32;
const REPEAT: usize = 10;

/// A deterministic xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const STATUSES: [&str; 8] = [
    "new",
    "pending",
    "paid",
    "packed",
    "shipped",
    "delivered",
    "cancelled",
    "failed",
];
const TIERS: [&str; 4] = ["free", "silver", "gold", "platinum"];
const REGIONS: [&str; 6] = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-south-1",
    "sa-east-1",
];

fn source(i: u64) -> String {
    format!("com.shop.svc{i}")
}

fn detail_type(i: u64) -> String {
    format!("Order Event {i}")
}

fn event(rng: &mut Rng, id: usize) -> Value {
    let items: Vec<Value> = (0..1 + rng.below(3))
        .map(|_| json!({"sku": format!("sku-{}", rng.below(500)), "qty": 1 + rng.below(5), "price": rng.below(20_000) as f64 / 100.0}))
        .collect();
    json!({
        "version": "0",
        "id": format!("evt-{id:08}"),
        "detail-type": detail_type(rng.below(40)),
        "source": source(rng.below(50)),
        "account": "123456789012",
        "time": format!("2024-05-{:02}T12:{:02}:{:02}Z", 1 + rng.below(28), rng.below(60), rng.below(60)),
        "region": REGIONS[rng.below(6) as usize],
        "resources": [format!("arn:aws:shop:us-east-1:123456789012:order/ord-{}", rng.below(100_000))],
        "detail": {
            "orderId": format!("ord-{}", rng.below(100_000)),
            "status": STATUSES[rng.below(8) as usize],
            "amount": rng.below(100_000) as f64 / 100.0,
            "customer": {"id": format!("cust-{}", rng.below(5_000)), "tier": TIERS[rng.below(4) as usize]},
            "items": items,
        }
    })
}

/// Exact values and prefixes only: typical EventBridge rules (a source and a detail-type, a
/// status and a tier, ...) mixed with selective ones (a customer, an order-id prefix).
fn exact_prefix_pattern(rng: &mut Rng) -> Value {
    match rng.below(5) {
        0 => {
            json!({"source": [source(rng.below(50))], "detail-type": [detail_type(rng.below(40))]})
        }
        3 => {
            json!({"detail-type": [detail_type(rng.below(40))], "detail": {"status": [STATUSES[rng.below(8) as usize]], "customer": {"tier": [TIERS[rng.below(4) as usize]]}}})
        }
        _ => selective_pattern(rng),
    }
}

/// Exact values and prefixes where every pattern names a selective value (a customer id or an
/// order-id prefix), so few patterns share a value. quamina 0.7 needs this at 10,000 patterns: it
/// panics when more than 255 patterns share the first field and value it checks.
fn selective_pattern(rng: &mut Rng) -> Value {
    match rng.below(3) {
        0 => {
            json!({"source": [{"prefix": format!("com.shop.svc{}", rng.below(10))}], "detail": {"customer": {"id": [format!("cust-{}", rng.below(5_000))]}}})
        }
        1 => {
            json!({"detail": {"orderId": [{"prefix": format!("ord-{}", rng.below(1000))}], "status": [STATUSES[rng.below(8) as usize]]}})
        }
        _ => {
            json!({"region": [{"prefix": "eu-"}], "detail": {"customer": {"id": [format!("cust-{}", rng.below(5_000))]}}})
        }
    }
}

/// Adds `numeric` and `anything-but` conditions to the mix.
fn mixed_pattern(rng: &mut Rng) -> Value {
    match rng.below(4) {
        0 => {
            let lo = rng.below(900) as f64;
            json!({"source": [source(rng.below(50))], "detail": {"amount": [{"numeric": [">", lo, "<=", lo + 100.0]}]}})
        }
        1 => {
            json!({"detail-type": [detail_type(rng.below(40))], "detail": {"status": [{"anything-but": [STATUSES[rng.below(8) as usize], "failed"]}]}})
        }
        2 => {
            json!({"detail": {"items": {"qty": [{"numeric": [">=", 4]}]}, "customer": {"tier": [TIERS[rng.below(4) as usize]]}}, "source": [source(rng.below(50))]})
        }
        _ => exact_prefix_pattern(rng),
    }
}

fn rate(events: usize, elapsed: Duration) -> f64 {
    events as f64 / elapsed.as_secs_f64()
}

/// Runs `pass` (one pass over the corpus) until `MIN_TIME` has passed; events per second.
fn measure(mut pass: impl FnMut() -> usize) -> f64 {
    pass(); // warm-up
    let start = Instant::now();
    let mut events = 0;
    while start.elapsed() < MIN_TIME {
        events += pass();
    }
    rate(events, start.elapsed())
}

fn human(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else {
        format!("{:.0}k", x / 1e3)
    }
}

fn main() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let events: Vec<Value> = (0..EVENTS).map(|i| event(&mut rng, i)).collect();
    let texts: Vec<String> = events.iter().map(Value::to_string).collect();
    let average = texts.iter().map(String::len).sum::<usize>() / texts.len();
    println!("{EVENTS} events, {average} bytes on average; single thread");
    println!();
    println!(
        "{:<28} | {:>7} | {:>8} | {:>8} | {:>6} | {:>8} | {:>8} | {:>6} | {:>8} | {:>8} | {:>9}",
        "patterns",
        "matches",
        "a-m cold",
        "q cold",
        "cold",
        "a-m warm",
        "q warm",
        "warm",
        "V cold",
        "V warm",
        "V+parse"
    );
    println!("{}", "-".repeat(140));
    type Generator = fn(&mut Rng) -> Value;
    let series: [(&str, Generator); 3] = [
        ("exact+prefix", exact_prefix_pattern),
        ("selective exact+prefix", selective_pattern),
        ("+numeric/anything-but", mixed_pattern),
    ];
    // `cargo bench ... -- TEXT` runs only the rows whose label contains TEXT (cargo itself
    // passes `--bench`).
    let filter = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    for (label, generate) in series {
        for count in [1usize, 100, 10_000] {
            if filter
                .as_ref()
                .is_some_and(|f| !format!("{count} {label}").contains(f.as_str()))
            {
                continue;
            }
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ count as u64);
            let patterns: Vec<Value> = (0..count).map(|_| generate(&mut rng)).collect();

            let mut set = PatternSet::new();
            for (i, p) in patterns.iter().enumerate() {
                set.add(i, EventPattern::compile(p).expect("valid pattern"));
            }
            let ours: usize = events.iter().map(|e| set.matching(e).len()).sum();
            let ours_text: usize = texts
                .iter()
                .map(|t| set.matching_json(t).expect("an object").len())
                .sum();
            assert_eq!(
                ours, ours_text,
                "text and Value matching disagree on {label} with {count} patterns"
            );
            let cold = measure(|| {
                let mut n = 0;
                for t in &texts {
                    set.for_each_match_json(black_box(t), |_| n += 1)
                        .expect("an object");
                }
                black_box(n);
                texts.len()
            });
            let warm = measure(|| {
                let mut n = 0;
                for group in texts.chunks(GROUP) {
                    for _ in 0..REPEAT {
                        for t in group {
                            set.for_each_match_json(black_box(t), |_| n += 1)
                                .expect("an object");
                        }
                    }
                }
                black_box(n);
                texts.len() * REPEAT
            });
            let value_cold = measure(|| {
                let mut n = 0;
                for e in &events {
                    set.for_each_match(black_box(e), |_| n += 1);
                }
                black_box(n);
                events.len()
            });
            let value_warm = measure(|| {
                let mut n = 0;
                for group in events.chunks(GROUP) {
                    for _ in 0..REPEAT {
                        for e in group {
                            set.for_each_match(black_box(e), |_| n += 1);
                        }
                    }
                }
                black_box(n);
                events.len() * REPEAT
            });
            let with_parse = measure(|| {
                let mut n = 0;
                for t in &texts {
                    let e: Value = serde_json::from_str(black_box(t)).expect("parse");
                    set.for_each_match(&e, |_| n += 1);
                }
                black_box(n);
                texts.len()
            });

            // quamina 0.7 panics on some large pattern sets ("per-state field_transitions.len()
            // fits in u8"); such a row is reported rather than aborting the benchmark.
            let quiet = std::panic::take_hook();
            std::panic::set_hook(Box::new(|_| {}));
            let quamina_result = std::panic::catch_unwind(|| {
                let mut quamina = quamina::Quamina::<usize>::new();
                for (i, p) in patterns.iter().enumerate() {
                    quamina
                        .add_pattern(i, &p.to_string())
                        .expect("quamina accepts the pattern");
                }
                let matches = |t: &String| {
                    quamina
                        .matches_for_event(black_box(t.as_bytes()))
                        .map_or(0, |m| m.len())
                };
                let theirs: usize = texts.iter().map(matches).sum();
                let cold = measure(|| {
                    let n: usize = texts.iter().map(matches).sum();
                    black_box(n);
                    texts.len()
                });
                let warm = measure(|| {
                    let mut n = 0;
                    for group in texts.chunks(GROUP) {
                        for _ in 0..REPEAT {
                            n += group.iter().map(matches).sum::<usize>();
                        }
                    }
                    black_box(n);
                    texts.len() * REPEAT
                });
                (theirs, cold, warm)
            });
            std::panic::set_hook(quiet);
            let (q_cold, q_warm, ratio_cold, ratio_warm) = match quamina_result {
                Ok((theirs, q_cold, q_warm)) => {
                    assert_eq!(
                        ours, theirs,
                        "agent-mesh and quamina disagree on {label} with {count} patterns"
                    );
                    (
                        human(q_cold),
                        human(q_warm),
                        format!("{:.2}x", cold / q_cold),
                        format!("{:.2}x", warm / q_warm),
                    )
                }
                Err(_) => (
                    "panicked".to_owned(),
                    "panicked".to_owned(),
                    "-".to_owned(),
                    "-".to_owned(),
                ),
            };
            println!(
                "{:<28} | {:>7} | {:>8} | {:>8} | {:>6} | {:>8} | {:>8} | {:>6} | {:>8} | {:>8} | {:>9}",
                format!("{count} {label}"),
                ours,
                human(cold),
                q_cold,
                ratio_cold,
                human(warm),
                q_warm,
                ratio_warm,
                human(value_cold),
                human(value_warm),
                human(with_parse),
            );
        }
    }
    println!();
    println!(
        "events/s, single thread. Text to text: a-m = agent-mesh PatternSet::for_each_match_json and"
    );
    println!(
        "q = quamina, both on the event text; cold = streaming the 10k-event corpus, warm = events in"
    );
    println!(
        "cache; cold/warm = agent-mesh / quamina. Secondary: V = agent-mesh on already parsed"
    );
    println!(
        "serde_json::Value events, V+parse = serde_json::from_str of the whole event, then matching."
    );
    println!(
        "matches = total matches over the corpus (equal for both libraries and both agent-mesh paths)."
    );
}
