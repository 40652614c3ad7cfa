//! The timeout: a request over it is stopped and answered `TIMEOUT`.

use std::time::Duration;

use serde_json::json;

use crate::support::{code, gql, AGENT_7};

use super::*;

#[tokio::test]
async fn a_request_over_the_timeout_is_stopped_and_answered_timeout() {
    let setup = Setup::new(Some(300)).await;
    let plain = setup.serve(options()).await;
    let mut short = options();
    short.request_timeout = Duration::from_millis(20);
    let hurried = setup.serve(short).await;

    // Work on blocking threads (sled reads): no answer with data after
    // the limit.
    let answer = post(hurried, JSON, &heavy(), json!({})).await;
    let v = parsed(&answer);
    assert_eq!(answer.status, 504, "{v}");
    assert_eq!(code(&v), "TIMEOUT", "{v}");
    assert!(v["data"].is_null(), "nothing computed is returned: {v}");
    assert_eq!(v["errors"][0]["extensions"]["timeoutSeconds"], json!(0.02), "{v}");
    assert!(v["errors"][0]["extensions"]["requestId"].is_string(), "{v}");

    // A mutation document that takes longer than the limit stops at the
    // limit: the mutations after it never run.
    let received = gql(plain, AGENT_7, crate::graphql::RECEIVE, json!({ "key": "t-1" })).await;
    let id = received["data"]["receiveTicket"]["ticket"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{received}"))
        .to_string();
    let head = setup.service.head().unwrap_or(0);
    let comments = format!(
        "mutation {{ {} }}",
        aliases(
            200,
            &format!("commentTicket(input: {{ ticketId: \"{id}\", text: \"again\" }}) {{ position }}")
        )
    );
    let answer = post(hurried, JSON, &comments, json!({})).await;
    let v = parsed(&answer);
    assert_eq!(answer.status, 504, "{v}");
    assert_eq!(code(&v), "TIMEOUT", "{v}");
    // Once the abandoned work has given its turn back, fewer than the 200
    // comments are in the log.
    wait_running(plain, |n| n == 0.0).await;
    let appended = setup.service.head().unwrap_or(0) - head;
    assert!(
        appended < 200,
        "the work stopped at the deadline: {appended} comments appended"
    );
    // The server is fine.
    let answer = post(plain, JSON, "{ __typename }", json!({})).await;
    assert_eq!(answer.status, 200);
}
