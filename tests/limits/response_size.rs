//! The response size limit.

use serde_json::json;

use crate::support::code;

use super::*;

#[tokio::test]
async fn a_response_over_the_size_limit_is_refused() {
    let setup = Setup::new(None).await;
    let mut small = options();
    small.max_response_bytes = 8 * 1024;
    let addr = setup.serve(small).await;
    let long = "渗".repeat(1000);
    for i in 0..4 {
        let query = crate::graphql::RECEIVE.replace("卫生间天花板渗水", &long);
        let v = parsed(&post(addr, JSON, &query, json!({ "key": format!("long-{i}") })).await);
        assert!(v.get("errors").is_none(), "{v}");
    }
    let list = "{ tickets { edges { node { id description } } } }";
    for (accept, status) in [(JSON, 200), (GRAPHQL_RESPONSE_JSON, 400)] {
        let answer = post(addr, accept, list, json!({})).await;
        let v = parsed(&answer);
        assert_eq!(answer.status, status, "{v}");
        assert_eq!(code(&v), "RESPONSE_TOO_LARGE", "{v}");
        assert_eq!(v["errors"][0]["extensions"]["limit"], 8 * 1024);
        assert!(answer.body.len() < 1024, "no megabytes: {} bytes", answer.body.len());
    }
    // A smaller answer of the same list is sent.
    let answer = post(addr, JSON, "{ tickets(first: 1) { edges { node { id } } } }", json!({})).await;
    let v = parsed(&answer);
    assert_eq!(answer.status, 200, "{v}");
    assert!(v.get("errors").is_none(), "{v}");
}
