//! Tests of the command line's settings.

use super::*;

/// Parses flags alone: the environment of the test process is ignored
/// by giving every delivery setting on the command line where it matters.
fn cli(args: &[&str]) -> Cli {
    Cli::try_parse_from(std::iter::once("mentor-scheduler").chain(args.iter().copied())).unwrap()
}

/// `whsec_` and the base64 of the 36 bytes `mentor-scheduler-test-key-0123456789`.
const SECRET: &str = "whsec_bWVudG9yLXNjaGVkdWxlci10ZXN0LWtleS0wMTIzNDU2Nzg5";

#[test]
fn the_log_sink_is_the_default_and_a_webhook_url_selects_the_webhook() {
    let c = cli(&["--notification-sink", "log"]);
    let d = c.delivery().unwrap();
    assert_eq!(d.sink.name(), "log");
    assert_eq!(d.policy, RetryPolicy::default());
    assert_eq!(d.window, None);
    assert_eq!(d.batch_size, 50);
    let c = cli(&[
        "--webhook-url",
        "http://127.0.0.1:9/hook",
        "--webhook-secret",
        SECRET,
    ]);
    let c = Cli {
        notification_sink: None,
        ..c
    };
    assert_eq!(c.delivery().unwrap().sink.name(), "webhook");
    let c = cli(&[
        "--notification-sink",
        "log",
        "--webhook-url",
        "http://127.0.0.1:9/hook",
    ]);
    assert_eq!(
        c.delivery().unwrap().sink.name(),
        "log",
        "the explicit flag wins"
    );
}

#[test]
fn a_webhook_without_url_or_secret_refuses_to_start() {
    let c = Cli {
        webhook_url: None,
        ..cli(&["--notification-sink", "webhook", "--webhook-secret", SECRET])
    };
    assert!(matches!(
        c.delivery(),
        Err(DeliveryConfigError::Sink(SinkError::MissingUrl))
    ));
    let c = Cli {
        webhook_secret: None,
        ..cli(&[
            "--notification-sink",
            "webhook",
            "--webhook-url",
            "http://127.0.0.1:9/",
        ])
    };
    assert!(matches!(
        c.delivery(),
        Err(DeliveryConfigError::Sink(SinkError::MissingSecret))
    ));
}

#[test]
fn a_secret_without_the_whsec_prefix_refuses_to_start_naming_the_expected_form() {
    let c = cli(&[
        "--webhook-url",
        "http://127.0.0.1:9/hook",
        "--webhook-secret",
        "raw-secret-of-the-old-scheme-0123456789",
    ]);
    let message = c.delivery().unwrap_err().to_string();
    assert!(
        message.contains("does not start with whsec_")
            && message.contains("whsec_ followed by the base64 of 24 to 64 random bytes"),
        "{message}"
    );
    assert!(!message.contains("raw-secret"), "{message}");
    let c = cli(&[
        "--webhook-url",
        "http://127.0.0.1:9/hook",
        "--webhook-secret",
        &format!("{SECRET}, whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
    ]);
    assert_eq!(c.delivery().unwrap().sink.name(), "webhook", "two secrets");
}

#[test]
fn bad_delivery_settings_refuse_to_start() {
    for args in [
        &["--delivery-window", "8-20"][..],
        &["--delivery-window", "10:00-10:00"],
        &["--delivery-max-attempts", "0"],
        &["--delivery-backoff-base-ms", "0"],
        &["--delivery-batch-size", "501"],
        &["--webhook-timeout-seconds", "0"],
    ] {
        let mut all = vec!["--notification-sink", "log"];
        all.extend_from_slice(args);
        let err = cli(&all).delivery().unwrap_err();
        assert!(!err.to_string().is_empty(), "{args:?}");
    }
}

#[test]
fn the_window_attempts_and_backoff_are_read() {
    let c = cli(&[
        "--notification-sink",
        "log",
        "--delivery-window",
        "22:00-06:00",
        "--delivery-max-attempts",
        "3",
        "--delivery-backoff-base-ms",
        "10",
    ]);
    let d = c.delivery().unwrap();
    assert_eq!(
        d.window.map(|w| w.to_string()).as_deref(),
        Some("22:00-06:00")
    );
    assert_eq!(d.policy, RetryPolicy::new(3, 10).unwrap());
}

#[test]
fn commit_threads_are_one_to_eight_and_otherwise_refused() {
    let parse = |n: &str| {
        Cli::try_parse_from(["mentor-scheduler", "--commit-threads", n]).map(|c| c.commit_threads)
    };
    assert_eq!(parse("1").unwrap(), Some(1));
    assert_eq!(parse("8").unwrap(), Some(8));
    for bad in ["0", "9", "two"] {
        let err = parse(bad).unwrap_err().to_string();
        assert!(err.contains("--commit-threads"), "{bad}: {err}");
    }
    assert_eq!(cli(&[]).commit_threads, None, "the backend's default");
}
