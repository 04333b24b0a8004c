//! Every sandbox limit and rule, checked by the exact error it produces.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{load_partners, load_partners_with, LoadedPartners, PartnerError, SandboxLimits};

/// A partner script in a temporary folder; the folder lives as long as the value.
struct Script {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Script {
    fn new(text: &str) -> Script {
        let dir = tempfile::tempdir().expect("no temp dir");
        let path = dir.path().join("partners.rhai");
        std::fs::write(&path, text).expect("cannot write the script");
        Script { _dir: dir, path }
    }

    fn load(&self) -> Result<LoadedPartners, PartnerError> {
        load_partners(&self.path)
    }

    /// The error message of loading the script, which must fail.
    #[track_caller]
    fn error(&self) -> String {
        self.error_with(&SandboxLimits::default())
    }

    #[track_caller]
    fn error_with(&self, limits: &SandboxLimits) -> String {
        match load_partners_with(&self.path, limits) {
            Ok(loaded) => panic!("the script loaded: {:?}", loaded.partners),
            Err(error) => error.to_string(),
        }
    }

    /// The first line of a script failure: which script and which limit or rule.
    #[track_caller]
    fn headline(&self) -> String {
        self.error().lines().next().unwrap_or_default().to_owned()
    }

    fn failed(&self, reason: &str) -> String {
        format!("partner script {} failed: {reason}", self.path.display())
    }

    fn entry(&self, entry: &str, field: &str, error: &str) -> String {
        format!(
            "partner script {}, entry {entry}, field `{field}`: {error}",
            self.path.display()
        )
    }
}

const ONE_PARTNER: &str =
    r#"[#{ name: "Acme", account: "123456789012", region: "ap-southeast-1" }]"#;

#[test]
fn loop_stops_at_operation_limit() {
    let script = Script::new("loop {}");
    let started = Instant::now();
    let error = script.error();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        error.lines().next().unwrap(),
        script.failed("exceeded the limit of 1000000 operations")
    );
    assert!(error.contains("partners.rhai:1:6"), "{error}");
}

#[test]
fn deadline_stops_slow_script() {
    let limits = SandboxLimits {
        max_operations: 0,
        deadline: Duration::from_millis(200),
        ..SandboxLimits::default()
    };
    let script = Script::new("let n = 0; loop { n = (n + 1) % 1000; }");
    let started = Instant::now();
    let error = script.error_with(&limits);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        error.lines().next().unwrap(),
        script.failed("exceeded the wall-clock deadline of 200 ms")
    );
}

#[test]
fn recursion_stops_at_call_limit() {
    let script = Script::new("fn f(n) { f(n + 1) } f(0)");
    assert_eq!(
        script.headline(),
        script.failed("exceeded the limit of 32 nested function calls")
    );
    assert!(script.error().contains("function calls nested too deeply"));
}

/// The deepest shape found: each call level nests 11 function calls, the most the function
/// expression-depth limit lets through. The test thread has a 2 MiB stack, less than this
/// recursion needs in a debug build, so it passes only because the sandbox has its own thread.
#[test]
fn deep_recursion_is_script_error() {
    let calls =
        |depth: usize, inner: &str| format!("{}{inner}{}", "abs(".repeat(depth), ")".repeat(depth));
    let script = Script::new(&format!(
        "fn f(n) {{ if n > 0 {{ {} }} else {{ 0 }} }}\nf(1000)",
        calls(11, "f(n - 1)")
    ));
    assert_eq!(
        script.headline(),
        script.failed("exceeded the limit of 32 nested function calls")
    );
    let closures = Script::new("fn f(n) { [n].map(|x| abs(abs(f(x - 1))))[0] }\nf(1000)");
    assert_eq!(
        closures.headline(),
        closures.failed("exceeded the limit of 32 nested function calls")
    );
    assert!(
        closures.error().contains("more calls"),
        "{}",
        closures.error()
    );
}

#[test]
fn nesting_stops_at_expression_limit() {
    let deep = Script::new(&format!("{}1{}", "(".repeat(70), ")".repeat(70)));
    assert_eq!(
        deep.headline(),
        deep.failed("exceeded the limit of 64 nested expressions (32 inside functions)")
    );
    let in_function = Script::new(&format!(
        "fn f() {{ {}1{} }} f()",
        "[".repeat(20),
        "]".repeat(20)
    ));
    assert_eq!(
        in_function.headline(),
        in_function.failed("exceeded the limit of 64 nested expressions (32 inside functions)")
    );
}

#[test]
fn growth_stops_at_size_limits() {
    let string = Script::new(r#"let s = "a"; loop { s += s; }"#);
    assert_eq!(
        string.headline(),
        string.failed("exceeded the limit of 65536 bytes per string")
    );
    let padded = Script::new(r#"let s = ""; s.pad(100000, "x"); []"#);
    assert_eq!(
        padded.headline(),
        padded.failed("exceeded the limit of 65536 bytes per string")
    );
    let array = Script::new("let a = []; for i in 0..20000 { a.push(i); } a");
    assert_eq!(
        array.headline(),
        array.failed("exceeded the limit of 10000 array elements")
    );
    let map = Script::new("let m = #{}; for i in 0..2000 { m[`k${i}`] = i; } [m]");
    assert_eq!(
        map.headline(),
        map.failed("exceeded the limit of 1000 map entries")
    );
}

#[test]
fn definitions_stop_at_count_limits() {
    let lets: String = (0..300).map(|i| format!("let v{i} = {i};\n")).collect();
    let variables = Script::new(&format!("{lets}[]"));
    assert_eq!(
        variables.headline(),
        variables.failed("exceeded the limit of 256 variables")
    );
    let fns: String = (0..70).map(|i| format!("fn f{i}() {{ {i} }}\n")).collect();
    let functions = Script::new(&format!("{fns}[]"));
    assert_eq!(
        functions.headline(),
        functions.failed("exceeded the limit of 64 functions")
    );
}

#[test]
fn integer_overflow_is_script_error() {
    let cases = [
        ("9223372036854775807 + 1", "Addition overflow"),
        ("-9223372036854775807 - 2", "Subtraction overflow"),
        ("3037000500 * 3037000500", "Multiplication overflow"),
        (
            "let x = -9223372036854775807 - 1; x / -1",
            "Division overflow",
        ),
        ("2 ** 64", "Exponential overflow"),
        (
            "let x = -9223372036854775807 - 1; abs(x)",
            "Negation overflow",
        ),
        ("1 % 0", "Modulo division by zero"),
        ("1e300.to_int()", "Integer overflow"),
    ];
    for (expression, message) in cases {
        let script = Script::new(expression);
        let headline = script.headline();
        assert!(
            headline.starts_with(&script.failed(message)),
            "{expression}: {headline}"
        );
    }
}

#[test]
fn eval_is_disabled() {
    let direct = Script::new(r#"eval("40 + 2")"#);
    assert_eq!(
        direct.headline(),
        direct.failed("Syntax error: reserved keyword 'eval' is disabled")
    );
    let pointer = Script::new(r#"call(Fn("eval"), "40 + 2")"#);
    assert_eq!(
        pointer.headline(),
        pointer.failed("Syntax error: 'eval' is a reserved keyword")
    );
}

#[test]
fn host_functions_are_absent() {
    let calls = [
        (
            r#"create_image("i-0123456789abcdef0", "name")"#,
            "create_image (&str | ImmutableString | String, &str | ImmutableString | String)",
        ),
        (
            r#"load_partners("partners.rhai")"#,
            "load_partners (&str | ImmutableString | String)",
        ),
        ("caller_account()", "caller_account ()"),
        ("timestamp()", "timestamp ()"),
    ];
    for (call, signature) in calls {
        let script = Script::new(call);
        assert_eq!(
            script.headline(),
            script.failed(&format!("Function not found: {signature}")),
            "{call}"
        );
    }
}

#[test]
fn imports_are_rejected() {
    for text in [
        r#"import "std/rollout" as rollout; []"#,
        r#"import "/etc/passwd" as p; []"#,
    ] {
        let script = Script::new(text);
        assert_eq!(
            script.headline(),
            script.failed(
                "partner scripts cannot import modules; define the helpers in the script itself"
            ),
            "{text}"
        );
    }
}

#[test]
fn ranges_and_helpers_work() {
    let script = Script::new(
        r#"
        fn entry(i) { #{ name: `Partner ${i}`, account: `12345678901${i}`, region: "ap-southeast-1" } }
        let partners = [];
        for i in 0..3 { partners.push(entry(i)); }
        partners
        "#,
    );
    let loaded = script.load().expect("the script failed");
    let names: Vec<&str> = loaded.partners.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Partner 0", "Partner 1", "Partner 2"]);
}

#[test]
fn syntax_error_shows_line_and_caret() {
    let script = Script::new("[\n  #{ name: \"Acme\" account: \"123456789012\" },\n]");
    let error = script.error();
    let path = script.path.display();
    assert!(error.contains(&format!("--> {path}:2:")), "{error}");
    assert!(
        error.contains(" 2 |   #{ name: \"Acme\" account"),
        "{error}"
    );
    assert!(error.contains('^'), "{error}");
}

#[test]
fn eduglobal_partners_load() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("runbooks/partners/eduglobal.rhai");
    let loaded = load_partners(&path).expect("the EduGlobal partners failed");
    assert_eq!(loaded.partners.len(), 4);
    let first = &loaded.partners[0];
    assert_eq!(first.name, "EduGlobal Singapore");
    assert_eq!(first.account.as_str(), "123456789012");
    assert_eq!(first.region.as_str(), "ap-southeast-1");
    assert_eq!(
        first.extra.get("country"),
        Some(&serde_json::json!("singapore"))
    );
}

#[test]
fn extra_fields_are_kept() {
    let script = Script::new(
        r#"[#{ name: "Acme", account: "012345678901", region: "eu-west-1", tier: 2, contacts: ["a@example.com"] }]"#,
    );
    let loaded = script.load().expect("the script failed");
    let json = serde_json::to_value(&loaded.partners[0]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "name": "Acme", "account": "012345678901", "region": "eu-west-1",
            "tier": 2, "contacts": ["a@example.com"],
        })
    );
}

#[test]
fn account_must_be_digit_string() {
    let cases = [
        (
            "123456789012",
            "invalid account ID `123456789012`: pass account IDs as strings (\"012345678901\"), because a number loses its leading zeros",
        ),
        (
            "012345678901",
            "invalid account ID `12345678901`: pass account IDs as strings (\"012345678901\"), because a number loses its leading zeros",
        ),
        (
            r#""1234-5678-9012""#,
            "invalid account ID `1234-5678-9012`: an account ID is a string of exactly 12 digits, without dashes or spaces",
        ),
        (
            r#""1234 5678 9012""#,
            "invalid account ID `1234 5678 9012`: an account ID is a string of exactly 12 digits, without dashes or spaces",
        ),
        (
            r#""12345678901""#,
            "invalid account ID `12345678901`: an account ID is a string of exactly 12 digits, without dashes or spaces",
        ),
        (
            "1.5",
            "invalid account `1.5 (f64)`: `account` must be a string",
        ),
    ];
    for (account, message) in cases {
        let script = Script::new(&format!(
            r#"[#{{ name: "Acme", account: {account}, region: "ap-southeast-1" }}]"#
        ));
        assert_eq!(
            script.error(),
            script.entry("#1 (Acme)", "account", message),
            "{account}"
        );
    }
}

#[test]
fn region_is_checked_by_shape() {
    for region in [
        "Singapore",
        "ap-southeast",
        "AP-SOUTHEAST-1",
        "ap-southeast-1a",
        "",
    ] {
        let script = Script::new(&format!(
            r#"[#{{ name: "Acme", account: "123456789012", region: "{region}" }}]"#
        ));
        let message = format!("invalid region `{region}`: a region code looks like `ap-southeast-1`: lowercase letters, dashes and a number");
        assert_eq!(
            script.error(),
            script.entry("#1 (Acme)", "region", &message),
            "{region}"
        );
    }
    let unknown_but_shaped =
        Script::new(r#"[#{ name: "Acme", account: "123456789012", region: "xx-future-9" }]"#);
    assert!(unknown_but_shaped.load().is_ok());
}

#[test]
fn missing_fields_are_named() {
    let cases = [
        (
            r#"#{ account: "123456789012", region: "eu-west-1" }"#,
            "#1",
            "name",
            "invalid name `(missing)`: each partner needs a `name` string",
        ),
        (
            r#"#{ name: "Acme", region: "eu-west-1" }"#,
            "#1 (Acme)",
            "account",
            "invalid account `(missing)`: each partner needs an `account`, a 12-digit string",
        ),
        (
            r#"#{ name: "Acme", account: "123456789012" }"#,
            "#1 (Acme)",
            "region",
            "invalid region `(missing)`: each partner needs a `region` such as \"ap-southeast-1\"",
        ),
        (
            r#"#{ name: " ", account: "123456789012", region: "eu-west-1" }"#,
            "#1 ( )",
            "name",
            "invalid name ` `: a partner name must not be empty",
        ),
        (
            r#"#{ name: 7, account: "123456789012", region: "eu-west-1" }"#,
            "#1 (7)",
            "name",
            "invalid name `7 (i64)`: `name` must be a string",
        ),
        (
            r#""Acme""#,
            "#1",
            "entry",
            "invalid entry `string`: each partner is a map #{ name, account, region }",
        ),
    ];
    for (entry, label, field, message) in cases {
        let script = Script::new(&format!("[{entry}]"));
        assert_eq!(
            script.error(),
            script.entry(label, field, message),
            "{entry}"
        );
    }
}

#[test]
fn kms_key_must_be_arn_in_region() {
    let arn = "arn:aws:kms:ap-southeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let good = Script::new(&format!(
        r#"[#{{ name: "Acme", account: "123456789012", region: "ap-southeast-1", kms_key: "{arn}" }}]"#
    ));
    let loaded = good.load().expect("the script failed");
    assert_eq!(
        loaded.partners[0].kms_key.as_ref().map(|k| k.as_str()),
        Some(arn)
    );

    let alias = Script::new(
        r#"[#{ name: "Acme", account: "123456789012", region: "ap-southeast-1", kms_key: "alias/partner" }]"#,
    );
    assert_eq!(
        alias.error(),
        alias.entry("#1 (Acme)", "kms_key", "invalid KMS key ARN `alias/partner`: expected arn:aws:kms:<region>:<12-digit account>:key/<key id>")
    );
    let elsewhere = Script::new(&format!(
        r#"[#{{ name: "Acme", account: "123456789012", region: "ap-southeast-3", kms_key: "{arn}" }}]"#
    ));
    assert_eq!(
        elsewhere.error(),
        elsewhere.entry("#1 (Acme)", "kms_key", &format!("invalid kms_key `{arn}`: the key must be in the partner's region ap-southeast-3, because a copy is encrypted in its destination region"))
    );
}

#[test]
fn duplicates_are_rejected() {
    let names = Script::new(
        r#"[
            #{ name: "Acme", account: "123456789012", region: "eu-west-1" },
            #{ name: "Acme", account: "123456789013", region: "eu-west-1" },
        ]"#,
    );
    assert_eq!(
        names.error(),
        names.entry(
            "#2 (Acme)",
            "name",
            "invalid name `Acme`: partner names must be unique; this one appears twice"
        )
    );
    let accounts = Script::new(
        r#"[
            #{ name: "Acme", account: "123456789012", region: "eu-west-1" },
            #{ name: "Acme Asia", account: "123456789012", region: "ap-southeast-1" },
        ]"#,
    );
    assert_eq!(
        accounts.error(),
        accounts.entry("#2 (Acme Asia)", "account", "invalid account ID `123456789012`: each account appears once; merge the duplicate entries")
    );
}

#[test]
fn unstorable_extra_field_is_named() {
    let script = Script::new(
        r#"[#{ name: "Acme", account: "123456789012", region: "eu-west-1", pick: |x| x }]"#,
    );
    let error = script.error();
    assert!(
        error.starts_with(&script.entry(
            "#1 (Acme)",
            "pick",
            "invalid field `pick (Fn)`: the value cannot be stored as data"
        )),
        "{error}"
    );
}

#[test]
fn result_must_be_nonempty_array() {
    let path = |script: &Script| script.path.display().to_string();
    let map = Script::new(ONE_PARTNER.trim_start_matches('[').trim_end_matches(']'));
    assert_eq!(
        map.error(),
        format!(
            "partner script {}: the script must end with an array of partner maps, not map",
            path(&map)
        )
    );
    let empty = Script::new("[]");
    assert_eq!(
        empty.error(),
        format!(
            "partner script {}: the script returned no partners",
            path(&empty)
        )
    );
    assert!(Script::new(ONE_PARTNER).load().is_ok());
}

#[test]
fn missing_script_is_named() {
    let error = load_partners(std::path::Path::new("/nonexistent/partners.rhai"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        error.starts_with("cannot read partner script /nonexistent/partners.rhai: "),
        "{error}"
    );
}
