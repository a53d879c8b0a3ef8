//! The behaviour suite: every case runs against every backend compiled in (memory, local, and
//! aws on moto with the `moto-tests` feature). A case is written once, in the module of its
//! domain; `suite!` generates one test per backend. The Python and Node suites run the same
//! cases: tests/behaviour/cases.json lists them, and `cases_match_the_shared_list` below (with
//! tests/cross_language/test_behaviour_cases.py for Python and Node) fails when a list differs.

mod artifacts;
mod events;
mod guards;
mod kv;
mod large_values;
mod limits;
mod subscriptions;
mod tenancy;
mod timeline;
mod tools;
mod workflows;

use std::ops::Deref;

use agent_mesh::MeshClient;

/// A mesh under test, with the temporary directory a local mesh lives in.
pub struct TestMesh {
    mesh: MeshClient,
    _dir: Option<tempfile::TempDir>,
}

impl Deref for TestMesh {
    type Target = MeshClient;
    fn deref(&self) -> &MeshClient {
        &self.mesh
    }
}

impl TestMesh {
    async fn memory() -> TestMesh {
        TestMesh {
            mesh: MeshClient::connect("memory://").await.unwrap(),
            _dir: None,
        }
    }

    /// A fresh table and bucket (unique name prefix) on the moto server at
    /// `AGENT_MESH_TEST_AWS_ENDPOINT`.
    #[cfg(feature = "moto-tests")]
    async fn aws() -> TestMesh {
        let endpoint = std::env::var("AGENT_MESH_TEST_AWS_ENDPOINT").expect(
            "AGENT_MESH_TEST_AWS_ENDPOINT is not set: run the aws tests through tests/with-moto.sh",
        );
        let prefix = format!("t{}-", &uuid_like());
        let url = format!("aws://?region=us-east-1&endpoint={endpoint}&prefix={prefix}");
        let mesh = MeshClient::connect(&url).await.unwrap();
        mesh.provision().await.unwrap();
        TestMesh { mesh, _dir: None }
    }

    async fn local() -> TestMesh {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("local://{}", dir.path().display());
        TestMesh {
            mesh: MeshClient::connect(&url).await.unwrap(),
            _dir: Some(dir),
        }
    }
}

macro_rules! suite {
    ($backend:ident => $open:ident; $($module:ident: [$($case:ident),* $(,)?]),* $(,)?) => {
        mod $backend {
            /// `(module, case)` of every case, as listed here.
            #[allow(dead_code)]
            pub const CASES: &[(&str, &str)] = &[$($((stringify!($module), stringify!($case)),)*)*];
            $(
                mod $module {
                    $(
                        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                        async fn $case() {
                            let mesh = crate::TestMesh::$open().await;
                            crate::$module::$case(&mesh).await
                        }
                    )*
                }
            )*
        }
    };
}

/// Every case, for one backend.
macro_rules! all_cases {
    ($backend:ident => $open:ident) => {
        suite!($backend => $open;
            kv: [
                set_get_roundtrip_all_json_types,
                overwrite_bumps_version_and_keeps_created_at,
                ttl_expiry_hides_items_everywhere,
                ttl_constructors_set_expires_at,
                if_version_conflicts_change_nothing,
                if_absent_creates_once,
                delete_reports_whether_live,
                list_pages_are_complete_and_disjoint,
                list_respects_prefix_bounds,
                list_options_are_validated,
                batch_get_and_set,
                batch_set_rejects_bad_batches_whole,
                bad_keys_are_invalid_input,
                concurrent_conditional_increments_are_exact,
            ],
            large_values: [
                large_values_round_trip_through_every_read,
                values_over_64_mib_are_too_large,
                large_values_keep_ttl_conditions_and_versions,
                large_values_leave_no_orphan_bodies,
            ],
            artifacts: [
                put_get_head_roundtrip,
                replace_changes_etag_and_content,
                put_file_and_get_to_file_stream,
                missing_artifacts,
                list_pages_are_complete_and_disjoint,
                delete_removes,
                keys_cannot_escape_the_store,
                metadata_is_validated,
                readers_never_see_a_mix_during_replacement,
            ],
            events: [
                subscription_receives_exactly_matching_events,
                subscription_starts_when_opened,
                subscription_as_a_stream_yields_events_in_order,
                send_batch_reports_each_entry_and_delivers_all,
                invalid_events_are_rejected_before_sending,
                named_subscription_resumes_after_close,
                sent_events_are_appended_to_the_timeline,
                a_put_back_event_is_handed_out_again_and_not_acknowledged,
            ],
            timeline: [
                append_and_get_newest_first,
                prefix_pages_are_complete_and_disjoint,
                prefixes_select_streams_by_string_prefix,
                since_until_and_order,
                bad_timeline_input_is_rejected,
            ],
            tools: [upstream_tools_roundtrip],
            guards: [
                artifact_keys_with_control_characters_are_invalid,
                kv_keys_may_hold_control_characters,
                metadata_and_content_type_are_header_safe,
                batch_set_over_the_transaction_limit_is_too_large,
            ],
            subscriptions: [
                deleted_subscription_starts_afresh,
                a_stream_open_on_a_deleted_subscription_fails,
                delete_subscription_checks_the_name,
            ],
            limits: [
                values_at_the_depth_limit_are_readable_everywhere,
                values_past_the_depth_limit_are_refused_everywhere,
            ],
            workflows: [
                pass_and_choice_output,
                invalid_definitions_raise_invalid_input,
                history_lists_events_in_order,
                wait_timeout_and_stop,
                list_executions_pages,
            ],
            tenancy: [
                kv_hostile_keys_never_cross,
                artifacts_hostile_keys_never_cross,
                timeline_hostile_streams_never_cross,
                events_never_cross,
                workflows_never_cross,
                nested_scopes_are_isolated_from_siblings,
                scope_ids_are_validated,
                tool_calls_stay_in_the_scope,
                root_listings_leave_tenants_out,
            ],
        );
    };
}

all_cases!(memory => memory);
all_cases!(local => local);
#[cfg(feature = "moto-tests")]
all_cases!(aws => aws);

/// The cases listed above are exactly the shared cases of tests/behaviour/cases.json plus the
/// Rust-only ones it names.
#[test]
fn cases_match_the_shared_list() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/behaviour/cases.json");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut expected = std::collections::BTreeSet::new();
    for section in [&doc["cases"], &doc["only"]["rust"]] {
        for (domain, cases) in section.as_object().unwrap() {
            for case in cases.as_array().unwrap() {
                expected.insert(format!("{domain}::{}", case.as_str().unwrap()));
            }
        }
    }
    let listed: std::collections::BTreeSet<String> = memory::CASES
        .iter()
        .map(|(domain, case)| format!("{domain}::{case}"))
        .collect();
    assert_eq!(listed.len(), memory::CASES.len(), "a case is listed twice");
    let missing: Vec<_> = expected.difference(&listed).collect();
    let unlisted: Vec<_> = listed.difference(&expected).collect();
    assert!(
        missing.is_empty() && unlisted.is_empty(),
        "core/tests/behaviour/main.rs and tests/behaviour/cases.json differ: missing here {missing:?}, not in cases.json {unlisted:?}"
    );
}

/// A short random lower-case hex string (valid in bucket and table names).
fn uuid_like() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    format!("{:012x}", h.finish() & 0xffff_ffff_ffff)
}
