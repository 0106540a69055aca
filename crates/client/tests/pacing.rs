//! The rate budget, measured from arrival times at the server.

mod common;

use std::time::Duration;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_per_second_is_never_exceeded_in_any_window() {
    let (server, seen) = echo_server();
    let client = builder(&server)
        .rate_budget("20/1s".parse().unwrap())
        .batch_size(1)
        .max_in_flight(4)
        .build()
        .unwrap();
    // Two clones share one limiter: half the inputs through each.
    let other = client.clone();
    let (first, second) = tokio::join!(client.upsert(inputs(100)), other.upsert(inputs(100)));
    assert_eq!(first.summary.created + first.summary.updated, 100);
    assert_eq!(second.summary.created + second.summary.updated, 100);

    let mut arrivals: Vec<_> = seen
        .arrivals
        .lock()
        .unwrap()
        .iter()
        .map(|(at, _)| *at)
        .collect();
    arrivals.sort_unstable();
    assert_eq!(arrivals.len(), 200);
    // 21 arrivals within less than a second would exceed the budget in some window.
    for window in arrivals.windows(21) {
        let span = window[20] - window[0];
        assert!(
            span >= Duration::from_secs(1),
            "21 requests arrived within {span:?}"
        );
    }
    // And the budget is used, not wasted: 200 requests take about 10 s, not much more.
    let total = arrivals[199] - arrivals[0];
    assert!(
        total < Duration::from_secs(12),
        "pacing too slow: {total:?}"
    );
}
