//! Keeps the workspace's one-way layering from rotting: each crate may
//! depend only on the crates below it, and only `eventlog` knows sled,
//! only `api` knows HTTP and GraphQL.

use std::collections::BTreeSet;
use std::path::Path;

fn dependencies(krate: &str) -> BTreeSet<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates")
        .join(krate)
        .join("Cargo.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let manifest: toml::Table = text.parse().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ["dependencies", "build-dependencies"]
        .iter()
        .filter_map(|section| manifest.get(*section).and_then(|d| d.as_table()))
        .flat_map(|table| table.keys().cloned())
        .collect()
}

const INTERNAL: [&str; 5] = ["domain", "eventlog", "keyring", "projections", "api"];

fn internal(krate: &str) -> BTreeSet<String> {
    dependencies(krate)
        .into_iter()
        .filter(|d| INTERNAL.contains(&d.as_str()))
        .collect()
}

#[test]
fn internal_dependencies_point_one_way() {
    let expect = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(internal("domain"), expect(&[]), "domain depends on no other crate");
    assert_eq!(internal("eventlog"), expect(&[]), "eventlog depends on no other crate");
    assert_eq!(internal("keyring"), expect(&[]), "keyring depends on no other crate");
    assert!(internal("projections").is_subset(&expect(&["domain", "eventlog", "keyring"])));
    assert!(internal("api").is_subset(&expect(&["domain", "eventlog", "keyring", "projections"])));
}

#[test]
fn infrastructure_stays_in_its_crate() {
    for krate in ["domain", "keyring", "projections", "api"] {
        assert!(!dependencies(krate).contains("sled"), "{krate} must not know sled");
    }
    // The cryptography of personal data lives in the key ring alone.
    for krate in ["domain", "eventlog", "projections", "api"] {
        assert!(
            !dependencies(krate).contains("chacha20poly1305"),
            "{krate} must leave sealing to keyring"
        );
    }
    for krate in ["domain", "eventlog", "keyring", "projections"] {
        let deps = dependencies(krate);
        for web in ["axum", "async-graphql", "hyper", "tower", "serde_json"] {
            assert!(!deps.contains(web), "{krate} must not know {web}");
        }
    }
    let domain = dependencies("domain");
    for io in ["tokio", "sled", "async-trait"] {
        assert!(!domain.contains(io), "domain must not know {io}");
    }
}
