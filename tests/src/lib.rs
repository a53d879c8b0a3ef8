//! Helpers shared by the cross-process tests and the worker binary they spawn.

/// Deterministic artifact content for write number `i`: `size` bytes, different for each `i`.
pub fn content(i: u64, size: usize) -> Vec<u8> {
    let seed = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..size as u64)
        .map(|j| (seed.wrapping_add(j.wrapping_mul(31)) >> 7) as u8)
        .collect()
}

/// The large KV value the crash tests write as version `i`: `{"i": i, "text": ...}` with a
/// text of `bytes` characters that depends on `i`, so a reader can tell a whole value.
pub fn large_doc(i: u64, bytes: usize) -> serde_json::Value {
    let unit = format!("{i:016x}");
    let text: String = unit.chars().cycle().take(bytes).collect();
    serde_json::json!({"i": i, "text": text})
}

/// Where a client's large-value bodies are listed.
pub const BODIES: &str = ".agent-mesh/kv-values/";

/// The workflow the crash tests kill a process in: `Count1` (Task) → `Pause` (Wait 3 s) →
/// `Slow` (Task) → `Count2` (Task). Every Task is served by [`register_crash_handlers`].
pub fn crash_definition() -> serde_json::Value {
    serde_json::json!({
        "StartAt": "Count1",
        "States": {
            "Count1": {"Type": "Task", "Resource": "count", "ResultPath": "$.count1", "Next": "Pause"},
            "Pause": {"Type": "Wait", "Seconds": 3, "Next": "Slow"},
            "Slow": {"Type": "Task", "Resource": "slow", "ResultPath": "$.slow", "Next": "Count2"},
            "Count2": {"Type": "Task", "Resource": "count", "ResultPath": "$.count2", "End": true}
        }
    })
}

/// Registers the crash workflow's handlers: each run of a Task adds 1 to the KV counter
/// `runs:<state>`; `slow` then sleeps `slow_ms` milliseconds.
pub fn register_crash_handlers(mesh: &agent_mesh::MeshClient, slow_ms: u64) {
    let count = |mesh: agent_mesh::MeshClient, pause_ms: u64| {
        agent_mesh::workflows::handler(move |task| {
            let mesh = mesh.clone();
            async move {
                let state = task.context["State"]["Name"]
                    .as_str()
                    .unwrap_or("?")
                    .to_owned();
                let key = format!("runs:{state}");
                loop {
                    let current = mesh
                        .kv()
                        .get(&key)
                        .await
                        .map_err(|e| agent_mesh::TaskError::new("Kv", e.message))?;
                    let (n, options) = match current {
                        Some(item) => (
                            item.value.as_u64().unwrap_or(0) + 1,
                            agent_mesh::SetOptions::if_version(item.version),
                        ),
                        None => (1, agent_mesh::SetOptions::if_absent()),
                    };
                    match mesh.kv().set(&key, serde_json::json!(n), options).await {
                        Ok(_) => break,
                        Err(e) if e.kind == agent_mesh::ErrorKind::Conflict => continue,
                        Err(e) => return Err(agent_mesh::TaskError::new("Kv", e.message)),
                    }
                }
                tokio::time::sleep(std::time::Duration::from_millis(pause_ms)).await;
                Ok(serde_json::json!({"state": state}))
            }
        })
    };
    mesh.workflows()
        .register("count", count(mesh.clone(), 0))
        .expect("register count");
    mesh.workflows()
        .register("slow", count(mesh.clone(), slow_ms))
        .expect("register slow");
}
