//! Keeps the workspace's one-way layering from rotting: each crate may
//! depend only on the crates below it (ARCHITECTURE.md draws them), only
//! `eventlog` knows sled, only `keyring` does cryptography, and only `api`
//! knows HTTP and GraphQL.

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

const INTERNAL: [&str; 8] = [
    "domain",
    "eventlog",
    "keyring",
    "eventformat",
    "projections",
    "simulator",
    "application",
    "api",
];

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
    let format = expect(&["domain", "eventlog", "keyring"]);
    assert!(
        internal("eventformat").is_subset(&format),
        "eventformat sits on the domain, the log and the keys"
    );
    let readers = expect(&["domain", "eventlog", "keyring", "eventformat"]);
    assert!(
        internal("projections").is_subset(&readers),
        "views read the log through the stored format"
    );
    assert!(
        internal("simulator").is_subset(&readers),
        "the simulator writes through the deciders and the stored format, never through a view"
    );
    let application = expect(&[
        "domain",
        "eventlog",
        "keyring",
        "eventformat",
        "projections",
        "simulator",
    ]);
    assert!(
        internal("application").is_subset(&application),
        "the application knows no api"
    );
    let mut everything = application.clone();
    everything.insert("application".to_string());
    assert!(internal("api").is_subset(&everything));
    assert!(
        internal("api").contains("application"),
        "the API serves the application layer"
    );
}

#[test]
fn infrastructure_stays_in_its_crate() {
    for krate in [
        "domain",
        "keyring",
        "eventformat",
        "projections",
        "simulator",
        "application",
        "api",
    ] {
        assert!(!dependencies(krate).contains("sled"), "{krate} must not know sled");
    }
    // The cryptography of personal data lives in the key ring alone.
    for krate in [
        "domain",
        "eventlog",
        "eventformat",
        "projections",
        "simulator",
        "application",
        "api",
    ] {
        assert!(
            !dependencies(krate).contains("chacha20poly1305"),
            "{krate} must leave sealing to keyring"
        );
    }
    for krate in [
        "domain",
        "eventlog",
        "keyring",
        "eventformat",
        "projections",
        "simulator",
    ] {
        let deps = dependencies(krate);
        for web in ["axum", "async-graphql", "hyper", "tower", "serde_json"] {
            assert!(!deps.contains(web), "{krate} must not know {web}");
        }
    }
    // The application layer serves the CLI and batch jobs as well as the
    // server: a job that wants the command service links no web stack.
    let application = dependencies("application");
    for web in [
        "axum",
        "async-graphql",
        "async-graphql-axum",
        "hyper",
        "tower",
        "tower-http",
        "prometheus-client",
    ] {
        assert!(!application.contains(web), "application must not know {web}");
    }
    let domain = dependencies("domain");
    for io in ["tokio", "sled", "async-trait"] {
        assert!(!domain.contains(io), "domain must not know {io}");
    }
}
