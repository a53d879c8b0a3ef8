//! EventBridge pattern matching: agent-mesh's `PatternSet` against the `quamina` crate on the same
//! events and patterns, single thread.
//!
//! `cargo bench -p agent-mesh --no-default-features --bench pattern`
//!
//! The corpus is 10,000 deterministic EventBridge envelopes (source, detail-type, resources and
//! a nested detail with an array of items). Pattern sets of 1, 100 and 10,000 patterns mix exact
//! values and prefixes; a second series adds `numeric` and `anything-but` conditions. Each row
//! checks that both libraries report the same number of matches over the corpus, then measures:
//!
//! - agent-mesh on events already parsed into `serde_json::Value` (how the crate is used: events
//!   arrive as values),
//! - agent-mesh including `serde_json::from_slice` of the event text,
//! - quamina, which takes the event text (it flattens the JSON itself).

use std::hint::black_box;
use std::time::{Duration, Instant};

use agent_mesh::{EventPattern, PatternSet};
use serde_json::{Value, json};

const EVENTS: usize = 10_000;
const MIN_TIME: Duration = Duration::from_millis(800);

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

const STATUSES: [&str; 8] = ["new", "pending", "paid", "packed", "shipped", "delivered", "cancelled", "failed"];
const TIERS: [&str; 4] = ["free", "silver", "gold", "platinum"];
const REGIONS: [&str; 6] = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1", "sa-east-1"];

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

/// Exact values and prefixes only.
fn exact_prefix_pattern(rng: &mut Rng) -> Value {
    match rng.below(5) {
        0 => json!({"source": [source(rng.below(50))], "detail-type": [detail_type(rng.below(40))]}),
        1 => json!({"source": [{"prefix": format!("com.shop.svc{}", rng.below(10))}], "detail": {"status": [STATUSES[rng.below(8) as usize]]}}),
        2 => json!({"detail": {"customer": {"tier": [TIERS[rng.below(4) as usize]]}, "orderId": [{"prefix": format!("ord-{}", rng.below(1000))}]}}),
        3 => json!({"detail-type": [detail_type(rng.below(40))], "detail": {"status": [STATUSES[rng.below(8) as usize], STATUSES[rng.below(8) as usize]]}}),
        _ => json!({"region": [{"prefix": "eu-"}], "detail": {"customer": {"id": [format!("cust-{}", rng.below(5_000))]}}}),
    }
}

/// Adds `numeric` and `anything-but` conditions to the mix.
fn mixed_pattern(rng: &mut Rng) -> Value {
    match rng.below(4) {
        0 => {
            let lo = rng.below(900) as f64;
            json!({"source": [source(rng.below(50))], "detail": {"amount": [{"numeric": [">", lo, "<=", lo + 100.0]}]}})
        }
        1 => json!({"detail-type": [detail_type(rng.below(40))], "detail": {"status": [{"anything-but": [STATUSES[rng.below(8) as usize], "failed"]}]}}),
        2 => json!({"detail": {"items": {"qty": [{"numeric": [">=", 4]}]}, "customer": {"tier": [TIERS[rng.below(4) as usize]]}}, "source": [source(rng.below(50))]}),
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
    if x >= 1e6 { format!("{:.2}M", x / 1e6) } else { format!("{:.0}k", x / 1e3) }
}

fn main() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let events: Vec<Value> = (0..EVENTS).map(|i| event(&mut rng, i)).collect();
    let texts: Vec<Vec<u8>> = events.iter().map(|e| serde_json::to_vec(e).expect("serialize")).collect();
    let average = texts.iter().map(Vec::len).sum::<usize>() / texts.len();
    println!("{EVENTS} events, {average} bytes on average; single thread");
    println!();
    println!(
        "{:<22} | {:>8} | {:>12} | {:>12} | {:>12} | {:>6} | {:>13}",
        "patterns", "matches", "agent-mesh", "a-m + parse", "quamina", "ratio", "ratio w/parse"
    );
    println!("{}", "-".repeat(105));
    type Generator = fn(&mut Rng) -> Value;
    let series: [(&str, Generator); 2] = [("exact+prefix", exact_prefix_pattern), ("+numeric/anything-but", mixed_pattern)];
    for (label, generate) in series {
        for count in [1usize, 100, 10_000] {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ count as u64);
            let patterns: Vec<Value> = (0..count).map(|_| generate(&mut rng)).collect();

            let mut set = PatternSet::new();
            let mut quamina = quamina::Quamina::<usize>::new();
            for (i, p) in patterns.iter().enumerate() {
                set.add(i, EventPattern::compile(p).expect("valid pattern"));
                quamina.add_pattern(i, &p.to_string()).expect("quamina accepts the pattern");
            }

            let ours: usize = events.iter().map(|e| set.matching(e).len()).sum();
            let theirs: usize = texts.iter().map(|t| quamina.matches_for_event(t).expect("quamina matches").len()).sum();
            assert_eq!(ours, theirs, "agent-mesh and quamina disagree on {label} with {count} patterns");

            let agent_mesh = measure(|| {
                let mut n = 0;
                for e in &events {
                    set.for_each_match(black_box(e), |_| n += 1);
                }
                black_box(n);
                events.len()
            });
            let with_parse = measure(|| {
                let mut n = 0;
                for t in &texts {
                    let e: Value = serde_json::from_slice(black_box(t)).expect("parse");
                    set.for_each_match(&e, |_| n += 1);
                }
                black_box(n);
                texts.len()
            });
            let quamina_rate = measure(|| {
                let mut n = 0;
                for t in &texts {
                    n += quamina.matches_for_event(black_box(t)).map_or(0, |m| m.len());
                }
                black_box(n);
                texts.len()
            });
            println!(
                "{:<22} | {:>8} | {:>12} | {:>12} | {:>12} | {:>5.2}x | {:>12.2}x",
                format!("{count} {label}"),
                ours,
                human(agent_mesh),
                human(with_parse),
                human(quamina_rate),
                agent_mesh / quamina_rate,
                with_parse / quamina_rate
            );
        }
    }
    println!();
    println!("events/s; matches = total matches over the corpus (equal for both libraries)");
}
