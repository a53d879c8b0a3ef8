//! Tenancy cases of the behaviour suite: two tenants of one mesh try every hostile spelling of
//! tests/behaviour/hostile_tenancy.json against each other, in each domain, in both
//! directions; none may read, change, list, receive or name the other's data.

use std::time::Duration;

use agent_mesh::{
    ErrorKind, Event, ListExecutionsOptions, ListOptions, MeshClient, MeshConfig, PutOptions,
    SetOptions, StartOptions, TimelineQuery,
};
use serde_json::{Value, json};

const TENANTS: [&str; 2] = ["tenant-a", "tenant-b"];

/// The hostile inputs, loaded once.
fn hostile() -> &'static Value {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/behaviour/hostile_tenancy.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    })
}

/// The strings of `list` in the hostile file with `{v}`/`{V}` the victim and `{o}` the attacker.
fn spellings(list: &str, attacker: &str, victim: &str) -> Vec<String> {
    hostile()[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap()
                .replace("{v}", victim)
                .replace("{V}", &victim.to_uppercase())
                .replace("{o}", attacker)
        })
        .collect()
}

/// The two tenants' clients, and each (attacker, victim) pairing.
fn pairs(mesh: &MeshClient) -> Vec<(MeshClient, &'static str, MeshClient, &'static str)> {
    let a = mesh.scope(TENANTS[0]).unwrap();
    let b = mesh.scope(TENANTS[1]).unwrap();
    vec![
        (a.clone(), TENANTS[0], b.clone(), TENANTS[1]),
        (b, TENANTS[1], a, TENANTS[0]),
    ]
}

/// Refused input is fine (`InvalidInput`, `TooLarge`); any other error is a failure.
fn refused_or<T>(result: agent_mesh::Result<T>, what: &str) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) if matches!(e.kind, ErrorKind::InvalidInput | ErrorKind::TooLarge) => None,
        Err(e) => panic!("{what}: {e}"),
    }
}

async fn all_kv(mesh: &MeshClient, prefix: &str) -> Vec<agent_mesh::KvItem> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = mesh
            .kv()
            .list(prefix, ListOptions::limit(1000).with_cursor(cursor))
            .await
            .unwrap();
        items.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return items,
        }
    }
}

pub async fn kv_hostile_keys_never_cross(mesh: &crate::TestMesh) {
    for (attacker, who, victim, victim_name) in pairs(mesh) {
        victim
            .kv()
            .set("x", json!({"owner": victim_name}), SetOptions::default())
            .await
            .unwrap();
        let keys = spellings("keys", who, victim_name);
        let mut written = Vec::new();
        for key in &keys {
            let value = json!({"owner": who, "key": key});
            if refused_or(
                attacker.kv().set(key, value, SetOptions::default()).await,
                key,
            )
            .is_some()
            {
                written.push(key.clone());
            }
            if let Some(Some(item)) = refused_or(attacker.kv().get(key).await, key) {
                assert_eq!(
                    item.value["owner"], who,
                    "{key}: read another tenant's item"
                );
                assert_eq!(&item.key, key);
            }
        }
        assert!(
            written.len() >= 50,
            "only {} hostile keys were accepted",
            written.len()
        );
        let refs: Vec<&str> = written.iter().map(String::as_str).collect();
        for item in attacker
            .kv()
            .batch_get(&refs)
            .await
            .unwrap()
            .into_iter()
            .flatten()
        {
            assert_eq!(item.value["owner"], who);
        }
        // Nothing of the attacker's is visible to the victim, by key or by listing.
        assert_eq!(
            victim.kv().get("x").await.unwrap().unwrap().value["owner"],
            victim_name
        );
        for item in all_kv(&victim, "").await {
            assert_eq!(item.value["owner"], victim_name, "{}", item.key);
        }
        // (Its own "x", from its turn as the victim, is not a hostile key.)
        let own = all_kv(&attacker, "").await;
        assert_eq!(own.iter().filter(|i| i.key != "x").count(), written.len());
        // The root sees each tenant's items under its own prefix only.
        for tenant in TENANTS {
            for item in all_kv(mesh, &format!("tenants/{tenant}/")).await {
                assert_eq!(item.value["owner"], tenant, "{}", item.key);
            }
        }
        for key in &written {
            assert!(attacker.kv().delete(key).await.unwrap(), "{key}");
        }
        assert!(victim.kv().get("x").await.unwrap().is_some());
    }
}

pub async fn artifacts_hostile_keys_never_cross(mesh: &crate::TestMesh) {
    for (attacker, who, victim, victim_name) in pairs(mesh) {
        victim
            .artifacts()
            .put("x", victim_name.as_bytes().to_vec(), PutOptions::default())
            .await
            .unwrap();
        let mut written = 0;
        for key in spellings("keys", who, victim_name) {
            let put = attacker
                .artifacts()
                .put(&key, who.as_bytes().to_vec(), PutOptions::default())
                .await;
            if refused_or(put, &key).is_some() {
                written += 1;
                let got = attacker.artifacts().get(&key).await.unwrap().unwrap();
                assert_eq!(got.data.as_ref(), who.as_bytes(), "{key}");
                assert_eq!(got.meta.key, key);
            }
            if let Some(Some(meta)) = refused_or(attacker.artifacts().head(&key).await, &key) {
                assert_eq!(meta.size, who.len() as u64, "{key}");
            }
        }
        assert!(
            written >= 30,
            "only {written} hostile artifact keys were accepted"
        );
        let listed = attacker
            .artifacts()
            .list("", ListOptions::limit(1000))
            .await
            .unwrap();
        let hostile: Vec<_> = listed.items.into_iter().filter(|m| m.key != "x").collect();
        assert_eq!(hostile.len(), written);
        for meta in victim
            .artifacts()
            .list("", ListOptions::limit(1000))
            .await
            .unwrap()
            .items
        {
            let data = victim.artifacts().get(&meta.key).await.unwrap().unwrap();
            assert_eq!(data.data.as_ref(), victim_name.as_bytes(), "{}", meta.key);
        }
        for meta in hostile {
            assert!(attacker.artifacts().delete(&meta.key).await.unwrap());
        }
        let x = victim.artifacts().get("x").await.unwrap().unwrap();
        assert_eq!(x.data.as_ref(), victim_name.as_bytes());
    }
}

pub async fn timeline_hostile_streams_never_cross(mesh: &crate::TestMesh) {
    for (attacker, who, victim, victim_name) in pairs(mesh) {
        victim
            .timeline()
            .append("x", json!({"owner": victim_name}))
            .await
            .unwrap();
        let mut written = 0;
        for stream in spellings("keys", who, victim_name) {
            let appended = attacker
                .timeline()
                .append(&stream, json!({"owner": who}))
                .await;
            if let Some(entry) = refused_or(appended, &stream) {
                assert_eq!(entry.stream, stream);
                written += 1;
            }
            // Reading by the same spelling finds only the attacker's own entries.
            if let Some(page) = refused_or(
                attacker
                    .timeline()
                    .get(&stream, TimelineQuery::limit(1000))
                    .await,
                &stream,
            ) {
                for entry in page.items {
                    assert_eq!(entry.data["owner"], who, "{stream}");
                }
            }
        }
        assert!(
            written >= 30,
            "only {written} hostile streams were accepted"
        );
        let victims = victim
            .timeline()
            .get("", TimelineQuery::limit(1000))
            .await
            .unwrap();
        for entry in &victims.items {
            assert_eq!(entry.data["owner"], victim_name, "{}", entry.stream);
        }
        let own = attacker
            .timeline()
            .get("", TimelineQuery::limit(1000))
            .await
            .unwrap();
        assert!(own.items.iter().all(|e| e.data["owner"] == who));
        assert!(own.items.len() >= written);
        // Root queries outside the tenants see neither.
        let root = mesh
            .timeline()
            .get("", TimelineQuery::limit(1000))
            .await
            .unwrap();
        assert!(
            root.items
                .iter()
                .all(|e| !e.data.get("owner").is_some_and(|o| o == who))
        );
    }
}

/// How long to wait for events that must not come.
fn quiet(mesh: &crate::TestMesh) -> Duration {
    if matches!(mesh.config(), MeshConfig::Aws(_)) {
        Duration::from_secs(3)
    } else {
        Duration::from_millis(300)
    }
}

pub async fn events_never_cross(mesh: &crate::TestMesh) {
    for (attacker, who, victim, victim_name) in pairs(mesh) {
        let mut subs = Vec::new();
        for pattern in spellings_json("patterns", who, victim_name) {
            subs.push((
                pattern.clone(),
                victim.events().subscribe(&pattern).await.unwrap(),
            ));
        }
        let mut own = attacker
            .events()
            .subscribe(&json!({"detail": {"owner": [who]}}))
            .await
            .unwrap();
        let mut events = Vec::new();
        for source in spellings("keys", who, victim_name) {
            if moto_breaks_on(mesh, &source) {
                continue;
            }
            let event =
                Event::new("Spy", json!({"owner": who, "secret": true})).with_source(&source);
            events.push(event);
        }
        let mut sent = Vec::new();
        for chunk in events.chunks(10) {
            match attacker.events().send_batch(chunk.to_vec()).await {
                Ok(results) => {
                    for (event, result) in chunk.iter().zip(results) {
                        if result.is_ok() {
                            sent.push(event.source.clone().unwrap());
                        }
                    }
                }
                // One refused source refuses its batch: send that batch one by one.
                Err(e) if e.kind == ErrorKind::InvalidInput => {
                    for event in chunk {
                        if refused_or(attacker.events().send(event.clone()).await, "send").is_some()
                        {
                            sent.push(event.source.clone().unwrap());
                        }
                    }
                }
                Err(e) => panic!("send_batch: {e}"),
            }
        }
        assert!(
            sent.len() >= 50,
            "only {} hostile sources were accepted",
            sent.len()
        );
        // The attacker's own subscription gets its events back with the sources it sent.
        let mut received = Vec::new();
        while received.len() < sent.len() {
            let event = own
                .next_timeout(Duration::from_secs(20))
                .await
                .unwrap()
                .expect("the attacker's own event did not arrive");
            received.push(event.source);
        }
        received.sort();
        received.dedup();
        let mut expected = sent.clone();
        expected.sort();
        expected.dedup();
        assert_eq!(received, expected);
        own.close().await.unwrap();
        // A marker from the victim tells each subscription it has seen what came before.
        victim
            .events()
            .send(
                Event::new("Marker", json!({"marker": true, "secret": true})).with_source("marker"),
            )
            .await
            .unwrap();
        tokio::time::sleep(quiet(mesh)).await;
        for (pattern, mut sub) in subs {
            while let Some(event) = sub.next_timeout(Duration::from_millis(300)).await.unwrap() {
                assert_ne!(
                    event.detail["owner"], who,
                    "the victim's subscription {pattern} received {event:?}"
                );
            }
            sub.close().await.unwrap();
        }
    }
}

/// Whether moto's EventBridge fails on `source`: it pastes the source into a JSON template
/// unescaped, so a backslash or a control character makes it answer 500 (EventBridge itself
/// takes them). Only there are such sources left out.
fn moto_breaks_on(mesh: &crate::TestMesh, source: &str) -> bool {
    matches!(mesh.config(), MeshConfig::Aws(_))
        && source.chars().any(|c| c == '\\' || c.is_control())
}

/// The JSON values of `list` in the hostile file, with the tenants substituted.
fn spellings_json(list: &str, attacker: &str, victim: &str) -> Vec<Value> {
    hostile()[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let text = v
                .to_string()
                .replace("{v}", victim)
                .replace("{V}", &victim.to_uppercase())
                .replace("{o}", attacker);
            serde_json::from_str(&text).unwrap()
        })
        .collect()
}

/// The ARN spellings an attacker tries for the victim's execution `arn`.
fn forged_arns(arn: &str, victim: &str, attacker: &str) -> Vec<String> {
    let (base, execution) = arn.rsplit_once(':').unwrap();
    vec![
        arn.to_owned(),
        arn.replace(&format!("{victim}."), &format!("{attacker}.")),
        arn.replace(&format!("{victim}."), ""),
        arn.replace(&format!(":{victim}."), &format!(":{attacker}.{victim}.")),
        arn.to_uppercase(),
        format!("{arn}:"),
        format!("{arn}/"),
        format!("{base}:../{execution}"),
        arn.replace(':', "%3A"),
        arn.replace("execution", "stateMachine"),
        base.replace("execution", "stateMachine").to_owned(),
        format!(" {arn}"),
    ]
}

pub async fn workflows_never_cross(mesh: &crate::TestMesh) {
    let definition =
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": true}}});
    for (attacker, who, victim, victim_name) in pairs(mesh) {
        // Named as one of the hostile names ("{v}-wf") the attacker then tries.
        let name = format!("{victim_name}-wf");
        victim
            .workflows()
            .create(&name, definition.clone())
            .await
            .unwrap();
        let run = victim
            .workflows()
            .start(
                &name,
                json!({"secret": victim_name}),
                StartOptions::default(),
            )
            .await
            .unwrap();
        let machine = victim.workflows().describe(&run.arn).await.unwrap();
        assert_eq!(machine.state_machine, name);
        let mut tried = 0;
        for arn in forged_arns(&run.arn, victim_name, who) {
            let w = attacker.workflows();
            let denied = |r: agent_mesh::Result<_>, op: &str| match r {
                Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::InvalidInput) => {}
                Ok(_) => panic!("{op}({arn}) reached another tenant's execution"),
                Err(e) => panic!("{op}({arn}): unexpected {e}"),
            };
            denied(w.describe(&arn).await.map(drop), "describe");
            denied(w.history(&arn).await.map(drop), "history");
            denied(w.wait(&arn, Some(Duration::ZERO)).await.map(drop), "wait");
            denied(w.stop(&arn, None, None).await.map(drop), "stop");
            tried += 4;
        }
        // The victim's state machine by ARN, and every hostile name, start nothing of the victim's.
        let machine_arn = run
            .arn
            .replace(":execution:", ":stateMachine:")
            .rsplit_once(':')
            .unwrap()
            .0
            .to_owned();
        let started = attacker
            .workflows()
            .start(&machine_arn, json!({}), StartOptions::default())
            .await;
        assert!(matches!(started, Err(e) if e.kind == ErrorKind::NotFound));
        for name in spellings("state_machine_names", who, victim_name) {
            tried += 1;
            let started = attacker
                .workflows()
                .start(&name, json!({}), StartOptions::default())
                .await;
            match started {
                Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::InvalidInput) => {}
                Ok(r) => panic!("start({name}) started {r:?} in a scope with no state machines"),
                Err(e) => panic!("start({name}): {e}"),
            }
            let listed = attacker
                .workflows()
                .list_executions(&name, ListExecutionsOptions::default())
                .await;
            if let Ok(page) = listed {
                assert!(
                    page.items.is_empty(),
                    "list_executions({name}) saw {:?}",
                    page.items
                );
            }
        }
        assert!(tried >= 50);
        // The same name in the attacker's scope is its own state machine.
        attacker
            .workflows()
            .create(&name, definition.clone())
            .await
            .unwrap();
        let page = attacker
            .workflows()
            .list_executions(&name, ListExecutionsOptions::default())
            .await
            .unwrap();
        assert!(page.items.is_empty(), "{:?}", page.items);
        let still = victim.workflows().stop(&run.arn, None, None).await.unwrap();
        assert_eq!(still.status.as_str(), "ABORTED");
    }
}

pub async fn nested_scopes_are_isolated_from_siblings(mesh: &crate::TestMesh) {
    let tenant = mesh.scope("tenant-a").unwrap();
    let bot1 = tenant.scope("bot-1").unwrap();
    let bot2 = tenant.scope("bot-2").unwrap();
    assert_eq!(bot1.scope_path(), ["tenant-a", "bot-1"]);
    bot1.kv()
        .set("k", json!(1), SetOptions::default())
        .await
        .unwrap();
    bot2.kv()
        .set("k", json!(2), SetOptions::default())
        .await
        .unwrap();
    assert_eq!(bot1.kv().get("k").await.unwrap().unwrap().value, json!(1));
    assert_eq!(bot2.kv().get("../bot-1/k").await.unwrap(), None);
    let keys: Vec<String> = all_kv(&tenant, "")
        .await
        .into_iter()
        .map(|i| i.key)
        .collect();
    assert_eq!(
        keys,
        ["bot-1/k", "bot-2/k"],
        "the tenant sees its agents' keys"
    );
    let other = mesh.scope("tenant-b").unwrap();
    assert!(all_kv(&other, "").await.is_empty());
    bot1.timeline()
        .append("log", json!({"n": 1}))
        .await
        .unwrap();
    let seen = bot2
        .timeline()
        .get("", TimelineQuery::limit(10))
        .await
        .unwrap();
    assert!(seen.items.is_empty(), "{:?}", seen.items);
    let from_tenant = tenant
        .timeline()
        .get("bot-1/", TimelineQuery::limit(10))
        .await
        .unwrap();
    assert_eq!(from_tenant.items.len(), 1);
    assert_eq!(from_tenant.items[0].stream, "bot-1/log");
}

pub async fn scope_ids_are_validated(mesh: &crate::TestMesh) {
    for bad in [
        "",
        ".",
        "..",
        "A",
        "tenant/a",
        "tenant.a",
        "tenant_a",
        "-a",
        "a-",
        " a",
        "a\0",
        "é",
        "tenants/x",
        &"x".repeat(33),
    ] {
        let e = mesh.scope(bad).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput, "{bad:?}");
        assert!(e.to_string().contains("mesh.scope"), "{e}");
    }
    let deep = mesh
        .scope("a")
        .unwrap()
        .scope("b")
        .unwrap()
        .scope("c")
        .unwrap()
        .scope("d")
        .unwrap();
    assert_eq!(deep.scope("e").unwrap_err().kind, ErrorKind::InvalidInput);
    assert_eq!(mesh.iam_policy().unwrap_err().kind, ErrorKind::InvalidInput);
    let policy = mesh.scope("acme").unwrap().iam_policy().unwrap();
    assert_eq!(policy["Version"], "2012-10-17");
}

pub async fn tool_calls_stay_in_the_scope(mesh: &crate::TestMesh) {
    let a = mesh.scope("tenant-a").unwrap();
    let b = mesh.scope("tenant-b").unwrap();
    a.call("mesh_kv_set", json!({"key": "k", "value": "a-secret"}))
        .await
        .unwrap();
    let got = b.call("mesh_kv_get", json!({"key": "k"})).await.unwrap();
    assert_eq!(got["found"], false);
    let got = b
        .call("kv.get", json!({"key": "../tenant-a/k"}))
        .await
        .unwrap();
    assert_eq!(got["found"], false);
    let got = a.call("mesh_kv_get", json!({"key": "k"})).await.unwrap();
    assert_eq!(got["value"], "a-secret");
    a.call(
        "mesh_artifacts_put",
        json!({"key": "doc.txt", "content": "a-doc"}),
    )
    .await
    .unwrap();
    let listed = b
        .call("mesh_artifacts_list", json!({"prefix": ""}))
        .await
        .unwrap();
    assert_eq!(listed["count"], 0);
    let listed = a
        .call("mesh_artifacts_list", json!({"prefix": ""}))
        .await
        .unwrap();
    assert_eq!(listed["objects"][0]["key"], "doc.txt");
    let status = a.call("mesh_status", json!({})).await.unwrap();
    assert_eq!(status["tenant"], "tenant-a");
    assert_eq!(
        mesh.call("mesh_status", json!({})).await.unwrap()["tenant"],
        Value::Null
    );
}

pub async fn root_listings_leave_tenants_out(mesh: &crate::TestMesh) {
    let a = mesh.scope("tenant-a").unwrap();
    a.kv()
        .set("k", json!(1), SetOptions::default())
        .await
        .unwrap();
    a.timeline().append("s", json!({"n": 1})).await.unwrap();
    mesh.kv()
        .set("root-key", json!(0), SetOptions::default())
        .await
        .unwrap();
    let keys: Vec<String> = all_kv(mesh, "").await.into_iter().map(|i| i.key).collect();
    assert_eq!(keys, ["root-key"]);
    assert_eq!(all_kv(mesh, "ten").await.len(), 0);
    let keys: Vec<String> = all_kv(mesh, "tenants/tenant-a/")
        .await
        .into_iter()
        .map(|i| i.key)
        .collect();
    assert_eq!(keys, ["tenants/tenant-a/k"]);
    for spanning in ["tenants/", "tenants/tenant-a"] {
        let e = mesh
            .kv()
            .list(spanning, ListOptions::default())
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput, "{spanning}");
        assert!(e.to_string().contains("tenants/<tenant>/"), "{e}");
    }
    for spanning in ["tenants/", "tenants/tenant-a"] {
        let e = mesh
            .timeline()
            .get(spanning, TimelineQuery::limit(100))
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput, "{spanning}");
    }
    // Errors name the key as the scoped client knows it.
    let e = a
        .kv()
        .set("k", json!(2), SetOptions::if_absent())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert!(!e.to_string().contains("tenants/"), "{e}");
    assert!(e.to_string().contains("\"k\""), "{e}");
    let root = mesh
        .timeline()
        .get("", TimelineQuery::limit(100))
        .await
        .unwrap();
    assert!(root.items.iter().all(|e| !e.stream.starts_with("tenants/")));
    let tenant = mesh
        .timeline()
        .get("tenants/tenant-a/", TimelineQuery::limit(100))
        .await
        .unwrap();
    assert_eq!(tenant.items.len(), 1);
    assert_eq!(tenant.items[0].stream, "tenants/tenant-a/s");
}
