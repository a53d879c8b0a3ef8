//! AWS-only checks of events and the timeline on the moto server of `tests/with-moto.sh`
//! (compiled with `--features moto-tests`): delivery through EventBridge rules to SQS, durable
//! and ephemeral subscriptions and their AWS resources, failed entries retried or reported
//! (through `tests/aws/fault_proxy.py`, a fault-injecting proxy in front of moto), timeline
//! paging over 5,000 entries, and missing resources.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use agent_mesh::{
    ErrorKind, Event, MeshClient, Order, ReceivedEvent, SubscribeOptions, TimelineEntry,
    TimelineQuery,
};
use futures::StreamExt;
use serde_json::{Value, json};

fn endpoint() -> String {
    std::env::var("AGENT_MESH_TEST_AWS_ENDPOINT")
        .expect("AGENT_MESH_TEST_AWS_ENDPOINT is not set: run through tests/with-moto.sh")
}

fn url_at(endpoint: &str, prefix: &str) -> String {
    format!("aws://?region=us-east-1&endpoint={endpoint}&prefix={prefix}")
}

/// A unique resource name prefix for one test.
fn unique_prefix(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}{:x}-", nanos & 0xffff_ffff)
}

/// A provisioned mesh with its own resources, and its name prefix.
async fn fresh(name: &str) -> (MeshClient, String) {
    let prefix = unique_prefix(name);
    let mesh = MeshClient::connect(&url_at(&endpoint(), &prefix))
        .await
        .unwrap();
    mesh.provision().await.unwrap();
    (mesh, prefix)
}

async fn sdk() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint())
        .load()
        .await
}

/// The names of the subscription rules on the bus of `prefix`.
async fn subscription_rules(prefix: &str) -> Vec<String> {
    aws_sdk_eventbridge::Client::new(&sdk().await)
        .list_rules()
        .event_bus_name(format!("{prefix}agent-mesh-dev"))
        .name_prefix(format!("{prefix}agent-mesh-dev-sub-"))
        .send()
        .await
        .unwrap()
        .rules
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| r.name)
        .collect()
}

/// The URLs of the subscription queues of `prefix`.
async fn subscription_queues(prefix: &str) -> Vec<String> {
    aws_sdk_sqs::Client::new(&sdk().await)
        .list_queues()
        .queue_name_prefix(format!("{prefix}agent-mesh-dev-sub-"))
        .send()
        .await
        .unwrap()
        .queue_urls
        .unwrap_or_default()
}

/// The subscription rules and queues of `prefix`.
async fn subscription_resources(prefix: &str) -> (Vec<String>, Vec<String>) {
    (
        subscription_rules(prefix).await,
        subscription_queues(prefix).await,
    )
}

/// Receives events until `count` came (failing after 10 s without one).
async fn receive(sub: &mut agent_mesh::Subscription, count: usize) -> Vec<ReceivedEvent> {
    let mut events = Vec::new();
    while events.len() < count {
        let event = sub
            .next_timeout(Duration::from_secs(10))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("only {} of {count} events arrived", events.len()));
        events.push(event);
    }
    events
}

/// The `n` of each event's detail, sorted.
fn numbers(events: &[ReceivedEvent]) -> Vec<i64> {
    let mut n: Vec<i64> = events
        .iter()
        .map(|e| e.detail["n"].as_i64().unwrap())
        .collect();
    n.sort();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_provision_creates_the_bus_and_the_timeline_table() {
    let (mesh, prefix) = fresh("pv").await;
    mesh.provision().await.unwrap(); // idempotent
    let config = sdk().await;
    let bus = aws_sdk_eventbridge::Client::new(&config)
        .describe_event_bus()
        .name(format!("{prefix}agent-mesh-dev"))
        .send()
        .await
        .unwrap();
    assert_eq!(bus.name(), Some(format!("{prefix}agent-mesh-dev").as_str()));
    let table = aws_sdk_dynamodb::Client::new(&config)
        .describe_table()
        .table_name(format!("{prefix}agent-mesh-dev-timeline"))
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let keys: Vec<(String, String)> = table
        .key_schema()
        .iter()
        .map(|k| {
            (
                k.attribute_name().to_owned(),
                k.key_type().as_str().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("path".into(), "HASH".into()),
            ("id".into(), "RANGE".into())
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_events_reach_a_subscription_through_its_rule_and_queue() {
    let (mesh, _) = fresh("dl").await;
    let pattern = json!({
        "source": [{"prefix": "shop."}],
        "detail-type": ["OrderPlaced"],
        "detail": {
            "total": [{"numeric": [">", 100]}],
            "status": [{"anything-but": ["test"]}],
        },
    });
    let mut sub = mesh.events().subscribe(&pattern).await.unwrap();
    let sends = [
        (
            "shop.web",
            "OrderPlaced",
            json!({"n": 1, "total": 150, "status": "new"}),
        ),
        (
            "shop.web",
            "OrderPlaced",
            json!({"n": 2, "total": 50, "status": "new"}),
        ),
        (
            "shop.web",
            "OrderPlaced",
            json!({"n": 3, "total": 500, "status": "test"}),
        ),
        (
            "other.app",
            "OrderPlaced",
            json!({"n": 4, "total": 500, "status": "new"}),
        ),
        (
            "shop.app",
            "OrderPlaced",
            json!({"n": 5, "total": 101, "status": "paid"}),
        ),
        (
            "shop.web",
            "OrderCancelled",
            json!({"n": 6, "total": 500, "status": "new"}),
        ),
    ];
    let mut ids = HashMap::new();
    for (source, detail_type, detail) in sends {
        let n = detail["n"].as_i64().unwrap();
        let id = mesh
            .events()
            .send(Event::new(detail_type, detail).with_source(source))
            .await
            .unwrap();
        ids.insert(n, id);
    }
    let events = receive(&mut sub, 2).await;
    assert_eq!(numbers(&events), [1, 5]);
    for event in &events {
        let n = event.detail["n"].as_i64().unwrap();
        assert_eq!(event.id, ids[&n], "the id send returned");
        assert_eq!(event.detail_type, "OrderPlaced");
        assert!(event.source.starts_with("shop."));
        assert_eq!(event.region, "us-east-1");
    }
    assert_eq!(
        sub.next_timeout(Duration::from_secs(1)).await.unwrap(),
        None,
        "a non-matching event was delivered"
    );
    sub.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_send_batch_of_25_delivers_every_event() {
    let (mesh, _) = fresh("sb").await;
    let mut sub = mesh
        .events()
        .subscribe(&json!({"source": ["batch.test"]}))
        .await
        .unwrap();
    let events: Vec<Event> = (0..25)
        .map(|n| Event::new("Item", json!({"n": n})).with_source("batch.test"))
        .collect();
    let results = mesh.events().send_batch(events).await.unwrap();
    let ids: BTreeSet<String> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(ids.len(), 25);
    let received = receive(&mut sub, 25).await;
    assert_eq!(numbers(&received), (0..25).collect::<Vec<_>>());
    let received_ids: BTreeSet<String> = received.into_iter().map(|e| e.id).collect();
    assert_eq!(received_ids, ids);
    sub.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_named_subscription_resumes_after_close() {
    let (mesh, prefix) = fresh("nm").await;
    let pattern = json!({"detail-type": ["Tick"]});
    let open = || {
        mesh.events()
            .subscribe_with(&pattern, SubscribeOptions::named("resume"))
    };
    let tick = |n: i64| Event::new("Tick", json!({"n": n}));
    let mut sub = open().await.unwrap();
    let sent = mesh
        .events()
        .send_batch(vec![tick(1), tick(2), tick(3)])
        .await
        .unwrap();
    assert!(sent.iter().all(Result::is_ok));
    // One receive buffers all three; close acknowledges the one handed out and releases the
    // other two at once (not after SQS's visibility timeout).
    let first = receive(&mut sub, 1).await;
    sub.close().await.unwrap();
    mesh.events().send(tick(4)).await.unwrap();
    let (rules, queues) = subscription_resources(&prefix).await;
    assert_eq!(
        (rules.len(), queues.len()),
        (1, 1),
        "a named subscription keeps its rule and queue"
    );
    let started = std::time::Instant::now();
    let mut sub = open().await.unwrap();
    let rest = receive(&mut sub, 3).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let mut all = numbers(&first);
    all.extend(numbers(&rest));
    all.sort();
    assert_eq!(
        all,
        [1, 2, 3, 4],
        "each event exactly once across the reopen"
    );
    assert_eq!(
        sub.next_timeout(Duration::from_secs(1)).await.unwrap(),
        None
    );
    sub.close().await.unwrap();
    let (rules, queues) = subscription_resources(&prefix).await;
    assert_eq!((rules.len(), queues.len()), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_ephemeral_subscriptions_delete_their_rule_and_queue() {
    let (mesh, prefix) = fresh("ep").await;
    let mut sub = mesh
        .events()
        .subscribe(&json!({"source": ["eph.test"]}))
        .await
        .unwrap();
    let (rules, queues) = subscription_resources(&prefix).await;
    assert_eq!((rules.len(), queues.len()), (1, 1), "{rules:?} {queues:?}");
    mesh.events()
        .send(Event::new("E", json!({"n": 1})).with_source("eph.test"))
        .await
        .unwrap();
    assert_eq!(numbers(&receive(&mut sub, 1).await), [1]);
    sub.close().await.unwrap();
    assert_eq!(subscription_resources(&prefix).await, (vec![], vec![]));

    // Dropped without close: deleted in the background.
    let sub = mesh
        .events()
        .subscribe(&json!({"source": ["eph.test"]}))
        .await
        .unwrap();
    assert_eq!(subscription_rules(&prefix).await.len(), 1);
    drop(sub);
    let mut left = subscription_resources(&prefix).await;
    for _ in 0..50 {
        if left == (vec![], vec![]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = subscription_resources(&prefix).await;
    }
    assert_eq!(
        left,
        (vec![], vec![]),
        "a dropped subscription was not deleted"
    );
}

/// Reads every page of `prefix` with `query`, checking each page's size.
async fn all_pages(mesh: &MeshClient, prefix: &str, query: TimelineQuery) -> Vec<TimelineEntry> {
    let limit = query.limit.unwrap();
    let mut query = query;
    let mut seen = Vec::new();
    loop {
        let page = mesh.timeline().get(prefix, query.clone()).await.unwrap();
        assert!(page.items.len() <= limit);
        let full = page.items.len() == limit;
        seen.extend(page.items);
        match page.next_cursor {
            Some(cursor) => {
                assert!(full, "{prefix:?}: a page before the last is short");
                query.cursor = Some(cursor);
            }
            None => break,
        }
    }
    seen
}

fn ids(entries: &[TimelineEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.id.as_str()).collect()
}

/// Appends `{"n": n}` for each `n` to one of 50 streams `s/<0-4>/<0-9>`, 32 at a time.
async fn append_entries(mesh: &MeshClient, numbers: std::ops::Range<i64>) -> Vec<TimelineEntry> {
    futures::stream::iter(numbers)
        .map(|n| {
            let stream = format!("s/{}/{}", n % 5, (n / 5) % 10);
            async move { mesh.timeline().append(&stream, json!({"n": n})).await }
        })
        .buffer_unordered(32)
        .map(Result::unwrap)
        .collect()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_timeline_pages_over_5000_entries_across_50_streams() {
    let (mesh, _) = fresh("tl").await;
    let started = std::time::Instant::now();
    let mut appended = append_entries(&mesh, 0..300).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "300 appends took {:?}: this moto server backs up the whole table on every \
         TransactWriteItems item (quadratic); run it through tests/moto_server.py, which \
         snapshots only the touched items",
        started.elapsed()
    );
    appended.extend(append_entries(&mesh, 300..5000).await);
    eprintln!("5000 appends: {:?}", started.elapsed());
    let mut newest_first = appended.clone();
    newest_first.sort_by(|a, b| b.id.cmp(&a.id));
    let expected = |prefix: &str| -> Vec<&str> {
        newest_first
            .iter()
            .filter(|e| e.stream.starts_with(prefix))
            .map(|e| e.id.as_str())
            .collect()
    };
    let started = std::time::Instant::now();
    for (prefix, count) in [
        ("", 5000),
        ("s/", 5000),
        ("s/3/", 1000),
        ("s/3/7", 100),
        ("s/1", 1000),
        ("x/", 0),
    ] {
        let got = all_pages(&mesh, prefix, TimelineQuery::limit(333)).await;
        assert_eq!(got.len(), count, "{prefix:?}");
        assert_eq!(
            ids(&got),
            expected(prefix),
            "{prefix:?}: entries lost, repeated or out of order"
        );
    }
    let got = all_pages(
        &mesh,
        "s/3/",
        TimelineQuery::limit(333).with_order(Order::OldestFirst),
    )
    .await;
    let mut oldest: Vec<&str> = expected("s/3/");
    oldest.reverse();
    assert_eq!(ids(&got), oldest);
    // Data and stream come back as appended.
    let by_id: HashMap<&str, &TimelineEntry> =
        appended.iter().map(|e| (e.id.as_str(), e)).collect();
    assert!(got.iter().all(|e| by_id[e.id.as_str()] == e));

    // since (inclusive) / until (exclusive), to the millisecond of the entries' times.
    let since = newest_first[3500].time;
    let until = newest_first[1200].time;
    let window = |prefix: &str| -> Vec<&str> {
        newest_first
            .iter()
            .filter(|e| e.stream.starts_with(prefix) && e.time >= since && e.time < until)
            .map(|e| e.id.as_str())
            .collect()
    };
    for prefix in ["", "s/2/", "s/4"] {
        let query = TimelineQuery::limit(333)
            .with_since(Some(since))
            .with_until(Some(until));
        let got = all_pages(&mesh, prefix, query).await;
        assert!(!got.is_empty());
        assert_eq!(ids(&got), window(prefix), "{prefix:?} since/until");
    }
    eprintln!("timeline reads: {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_large_entries_on_deep_streams_store_their_data_once() {
    let (mesh, prefix) = fresh("lg").await;
    // 16 index paths x 290 KB would exceed DynamoDB's 4 MB transaction limit.
    let stream = (0..16)
        .map(|i| format!("d{i}"))
        .collect::<Vec<_>>()
        .join("/");
    let data = json!({"blob": "x".repeat(290_000)});
    let entry = mesh.timeline().append(&stream, data.clone()).await.unwrap();
    let small = mesh
        .timeline()
        .append(&stream, json!({"small": true}))
        .await
        .unwrap();
    for query_prefix in [
        "",
        "d0/",
        "d0/d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/d13/d14/",
        "d0/d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/d13/d14/d15",
    ] {
        let page = mesh
            .timeline()
            .get(query_prefix, TimelineQuery::limit(10))
            .await
            .unwrap();
        assert_eq!(
            page.items,
            [small.clone(), entry.clone()],
            "{query_prefix:?}"
        );
    }
    let table = format!("{prefix}agent-mesh-dev-timeline");
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk().await);
    let get = |path: String| {
        dynamo
            .get_item()
            .table_name(&table)
            .key("path", aws_sdk_dynamodb::types::AttributeValue::S(path))
            .key(
                "id",
                aws_sdk_dynamodb::types::AttributeValue::S(entry.id.clone()),
            )
            .send()
    };
    let index = get("P#".into()).await.unwrap().item.unwrap();
    assert!(index.contains_key("detached") && !index.contains_key("data"));
    let stored = get(format!("D#{}", entry.id)).await.unwrap().item.unwrap();
    assert_eq!(stored["data"].as_s().unwrap(), &data.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_missing_bus_and_timeline_table_are_config_errors_that_name_them() {
    let prefix = unique_prefix("never-ev");
    let mesh = MeshClient::connect(&url_at(&endpoint(), &prefix))
        .await
        .unwrap();
    let table = format!("{prefix}agent-mesh-dev-timeline");
    let err = mesh.timeline().append("a/b", json!({})).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config, "{err}");
    assert!(
        err.message.contains(&table) && err.message.contains("provision()"),
        "{err}"
    );
    let err = mesh
        .timeline()
        .get("a/", TimelineQuery::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config, "{err}");
    assert!(err.message.contains(&table), "{err}");
    let bus = format!("\"{prefix}agent-mesh-dev\"");
    let err = mesh
        .events()
        .send(Event::new("E", json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config, "{err}");
    assert!(
        err.message.contains(&bus) && err.message.contains("provision()"),
        "{err}"
    );
    let err = mesh
        .events()
        .subscribe(&json!({"source": ["x"]}))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config, "{err}");
    assert!(err.message.contains(&bus), "{err}");
    assert_eq!(
        subscription_queues(&prefix).await,
        Vec::<String>::new(),
        "a queue was left behind"
    );
}

/// `tests/aws/fault_proxy.py` as a child process in front of moto (`.venv/bin/python` at the
/// repository root, else `python3`, unless `AGENT_MESH_TEST_PYTHON` names one); killed when
/// dropped.
struct FaultProxy {
    child: Child,
    url: String,
}

impl FaultProxy {
    /// Starts the proxy with the options `args` and reads the URL it prints.
    fn start(args: &[&str]) -> FaultProxy {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let python = std::env::var("AGENT_MESH_TEST_PYTHON").unwrap_or_else(|_| {
            let venv = root.join(".venv/bin/python");
            if venv.exists() {
                venv.display().to_string()
            } else {
                "python3".into()
            }
        });
        let child = Command::new(&python)
            .arg(root.join("tests/aws/fault_proxy.py"))
            .arg(endpoint())
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start tests/aws/fault_proxy.py with {python}: {e}"));
        // Owns the child from here, so that a failure below still kills it.
        let mut proxy = FaultProxy {
            child,
            url: String::new(),
        };
        let mut line = String::new();
        BufReader::new(proxy.child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("http://"), "the proxy printed {line:?}");
        proxy.url = line.trim().to_owned();
        proxy
    }

    /// What the proxy did: its `GET /__proxy/stats`.
    fn stats(&self) -> Value {
        let address = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        write!(
            stream,
            "GET /__proxy/stats HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or_default();
        assert!(head.starts_with("HTTP/1.1 200 "), "{answer}");
        serde_json::from_str(body).unwrap()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_failed_entries_are_retried_or_reported_never_lost() {
    let (direct, prefix) = fresh("ft").await;
    // Fails the `PutEvents` entries whose detail has `"fail": "once"` on their first attempt
    // only and those with `"fail": "always"` on every attempt, with `InternalFailure`, without
    // forwarding them; counts each entry's attempts (by its detail's `n`).
    let proxy = FaultProxy::start(&["--fail-put-events"]);
    let proxied = MeshClient::connect(&url_at(&proxy.url, &prefix))
        .await
        .unwrap();
    let mut sub = direct
        .events()
        .subscribe(&json!({"source": ["fault.test"]}))
        .await
        .unwrap();
    let once = [1, 6, 11, 16, 21];
    let always = [3, 17];
    let events: Vec<Event> = (0..25)
        .map(|n| {
            let fail = if once.contains(&n) {
                "once"
            } else if always.contains(&n) {
                "always"
            } else {
                "never"
            };
            Event::new("Faulty", json!({"n": n, "fail": fail})).with_source("fault.test")
        })
        .collect();
    let results = proxied.events().send_batch(events).await.unwrap();
    assert_eq!(results.len(), 25);
    for (n, result) in results.iter().enumerate() {
        if always.contains(&(n as i64)) {
            let err = result.as_ref().unwrap_err();
            assert_eq!(err.kind, ErrorKind::Unavailable, "{err}");
            assert!(err.retryable);
            for part in [
                "events.send",
                &format!("\"{prefix}agent-mesh-dev\""),
                "InternalFailure",
                "injected permanent failure",
                "4 attempts",
            ] {
                assert!(err.message.contains(part), "{part:?} not in {err}");
            }
        } else {
            assert!(result.is_ok(), "event {n}: {result:?}");
        }
    }
    let stats = proxy.stats();
    let seen = |n: i64| stats["entries_seen"][n.to_string()].as_u64();
    for n in once {
        assert_eq!(seen(n), Some(2), "a one-time failure is sent again once");
    }
    for n in always {
        assert_eq!(seen(n), Some(4), "a permanent failure is tried 4 times");
    }
    assert_eq!(seen(0), Some(1), "accepted entries are not sent again");
    let received = receive(&mut sub, 23).await;
    let expected: Vec<i64> = (0..25).filter(|n| !always.contains(n)).collect();
    assert_eq!(numbers(&received), expected);
    assert_eq!(
        sub.next_timeout(Duration::from_secs(1)).await.unwrap(),
        None,
        "an event reported failed was delivered"
    );
    sub.close().await.unwrap();
    // The accepted events went to the timeline too, the failed ones did not.
    let page = direct
        .timeline()
        .get("events/fault.test/", TimelineQuery::limit(100))
        .await
        .unwrap();
    let mut logged: Vec<i64> = page
        .items
        .iter()
        .map(|e| e.data["detail"]["n"].as_i64().unwrap())
        .collect();
    logged.sort();
    assert_eq!(logged, expected);
}
