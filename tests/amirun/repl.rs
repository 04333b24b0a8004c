//! `amirun repl` in a pseudo-terminal and from piped stdin, `amirun eval` and `amirun doc`,
//! against the emulator behind the counting proxy.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use rexpect::process::WaitStatus;
use rexpect::session::PtySession;

use crate::support::{block_on, fixtures, Amirun, Finished, ProxyOptions, World};

const PROMPT: &str = "amirun> ";
const PLAN_PROMPT: &str = "amirun (plan)> ";
/// Escape sequence that rustyline writes when a new `readline` starts (bracketed paste on).
/// Redraws of the edited line repeat the prompt without it, so it marks a new prompt.
const READLINE_START: &str = "\x1b[?2004h";
/// Upper bound of any single expectation; a hung REPL fails the test instead of hanging it.
const TIMEOUT_MS: u64 = 60_000;

/// Starts the REPL in a pseudo-terminal, with its history under `state_home`, and waits for
/// its first prompt.
fn terminal(world: &World, state_home: &Path) -> PtySession {
    let mut session = spawn_terminal(world, state_home);
    expect_prompt(&mut session, PROMPT);
    session
}

fn spawn_terminal(world: &World, state_home: &Path) -> PtySession {
    let amirun = world
        .amirun()
        .env("AMIRUN_STATE_DIR", path_text(world.state.path()))
        .env("AMIRUN_POLL_INTERVAL", "0.05");
    spawn_in_terminal(amirun, state_home)
}

fn spawn_in_terminal(amirun: Amirun, state_home: &Path) -> PtySession {
    let mut command = amirun
        .env("TERM", "xterm")
        .env("XDG_STATE_HOME", path_text(state_home))
        .args(["repl"])
        .command();
    // The builder closes stdin; the pseudo-terminal must stay on all three streams.
    command
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    rexpect::session::spawn_command(command, Some(TIMEOUT_MS))
        .expect("failed to start amirun repl in a pseudo-terminal")
}

fn path_text(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// Types `text` and presses Enter.
fn enter(session: &mut PtySession, text: &str) {
    session.send(text).expect("failed to type");
    session.send("\r").expect("failed to press Enter");
    session.flush().expect("failed to flush");
}

fn type_keys(session: &mut PtySession, text: &str) {
    session.send(text).expect("failed to type");
    session.flush().expect("failed to flush");
}

/// Waits for a new prompt, so that the next keys reach the line editor and not the entry
/// that is still running.
#[track_caller]
fn expect_prompt(session: &mut PtySession, prompt: &str) -> String {
    let before = expect(session, READLINE_START);
    expect(session, prompt);
    before
}

/// Waits for `text` as a whole output line, so that it cannot match inside the echoed
/// entry or a cursor-movement sequence.
#[track_caller]
fn expect_line(session: &mut PtySession, text: &str) {
    expect(session, &format!("\n{text}\r\n"));
}

#[track_caller]
fn expect(session: &mut PtySession, text: &str) -> String {
    session
        .exp_string(text)
        .unwrap_or_else(|error| panic!("the REPL did not print {text:?}: {error}"))
}

/// Ends the session with Ctrl-D and returns its exit status.
fn end(mut session: PtySession) -> Option<i32> {
    session.send_control('d').expect("failed to send Ctrl-D");
    match session.process().wait().expect("failed to wait for amirun") {
        WaitStatus::Exited(_, code) => Some(code),
        _ => None,
    }
}

/// Makes an image straight in the emulator, bypassing the proxy, and returns its ID.
fn make_image(world: &World, name: &str) -> String {
    block_on(async {
        let ec2 = fixtures::ec2(&world.emulator.url(), fixtures::SOURCE_REGION);
        let created = ec2
            .create_image()
            .instance_id(&world.instance)
            .name(name)
            .send()
            .await
            .expect("CreateImage failed");
        created.image_id().expect("no image ID").to_owned()
    })
}

/// Names of the host functions, from the reference that `amirun doc` prints.
fn host_function_names() -> Vec<String> {
    let reference = Amirun::new(None).args(["doc"]).run().success().stdout;
    let host_part = reference
        .split("\n## Stdlib modules")
        .next()
        .unwrap_or_default();
    host_part
        .lines()
        .filter_map(|line| line.strip_prefix("### `")?.strip_suffix('`'))
        .map(str::to_owned)
        .collect()
}

/// Runs amirun with `input` on stdin.
fn with_stdin(amirun: Amirun, input: &str) -> Finished {
    let mut command = amirun.command();
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("failed to start amirun");
    child
        .stdin
        .take()
        .expect("no stdin")
        .write_all(input.as_bytes())
        .expect("failed to write stdin");
    let output = child.wait_with_output().expect("failed to wait for amirun");
    Finished {
        status: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn piped_repl(world: &World, input: &str) -> Finished {
    let amirun = world
        .amirun()
        .env("AMIRUN_STATE_DIR", path_text(world.state.path()))
        .env("AMIRUN_POLL_INTERVAL", "0.05")
        .args(["repl"]);
    with_stdin(amirun, input)
}

#[test]
fn repl_tab_completes_names() {
    let world = World::new();
    let home = tempfile::tempdir().expect("no temp dir");
    let image = make_image(&world, "repl-completion-image");
    let mut session = terminal(&world, home.path());

    // A unique prefix shows the rest of the signature as a hint, and Tab completes it.
    type_keys(&mut session, "describe_im");
    expect(&mut session, "age(image_id: String[, options: Map]) -> Map");
    type_keys(&mut session, "\t");
    enter(&mut session, &format!("\"{image}\")"));
    expect(&mut session, "repl-completion-image");
    expect_prompt(&mut session, PROMPT);

    enter(&mut session, "let my_special_value = 6 * 7;");
    expect_prompt(&mut session, PROMPT);
    type_keys(&mut session, "my_spe\t");
    enter(&mut session, " + 1000");
    expect_line(&mut session, "1042");
    expect_prompt(&mut session, PROMPT);

    type_keys(&mut session, "import \"std/ro\t");
    enter(&mut session, " as r;");
    expect_prompt(&mut session, PROMPT);
    enter(&mut session, "r::parse_keys(\"ap-south-1=k1\")");
    expect(&mut session, "ap-south-1  k1");
    expect_prompt(&mut session, PROMPT);

    type_keys(&mut session, ":pl\t");
    enter(&mut session, " on");
    expect(&mut session, "plan mode is on");
    expect_prompt(&mut session, PLAN_PROMPT);
    assert_eq!(end(session), Some(0));
}

#[test]
fn repl_help_lists_and_explains() {
    let world = World::new();
    let home = tempfile::tempdir().expect("no temp dir");
    let mut session = terminal(&world, home.path());

    enter(&mut session, "help()");
    expect(&mut session, "EC2 images:");
    expect(&mut session, "Shares an image with accounts");
    expect_prompt(&mut session, PROMPT);

    enter(&mut session, "help(\"share\")");
    expect(
        &mut session,
        "share(image_id: String, targets: Array[, options: Map]) -> Map",
    );
    expect(
        &mut session,
        "Rejected before any change: the owner account",
    );
    expect_prompt(&mut session, PROMPT);

    enter(&mut session, ":help");
    expect(&mut session, ":load FILE [NAME=VALUE ...]");
    expect_prompt(&mut session, PROMPT);
    assert_eq!(end(session), Some(0));
}

#[test]
fn repl_continues_after_aws_error() {
    let world = World::new();
    let home = tempfile::tempdir().expect("no temp dir");
    let image = make_image(&world, "repl-described-image");
    let mut session = terminal(&world, home.path());

    enter(
        &mut session,
        &format!("let info = describe_image(\"{image}\");"),
    );
    expect_prompt(&mut session, PROMPT);
    enter(&mut session, "info.name");
    expect(&mut session, "\"repl-described-image\"");
    expect_prompt(&mut session, PROMPT);

    enter(&mut session, "describe_image(\"ami-0123456789abcdef0\")");
    expect(
        &mut session,
        "DescribeImages in ap-south-1 failed with InvalidAMIID.NotFound",
    );
    expect(&mut session, "--> entry 3:1:1");
    expect(&mut session, "code: InvalidAMIID.NotFound");
    expect_prompt(&mut session, PROMPT);

    // The session goes on, with its variables.
    enter(&mut session, "info.state + \"!\"");
    expect(&mut session, "\"available!\"");
    expect_prompt(&mut session, PROMPT);
    assert_eq!(end(session), Some(0));
    assert_eq!(world.proxy.count("DescribeImages"), 2);
}

#[test]
fn repl_ctrl_c_cancels_a_wait() {
    let world = World::with_options(|options| ProxyOptions {
        pending_for: Duration::from_secs(30),
        ..options
    });
    let home = tempfile::tempdir().expect("no temp dir");
    let mut session = terminal(&world, home.path());

    enter(
        &mut session,
        &format!(
            "let id = create_image(\"{}\", \"repl-wait-image\");",
            world.instance
        ),
    );
    expect_prompt(&mut session, PROMPT);
    let before_wait = world.proxy.count("DescribeImages");
    enter(&mut session, "wait_available(id)");
    // Polls show that the wait has started before Ctrl-C arrives.
    let deadline = Instant::now() + Duration::from_secs(20);
    while world.proxy.count("DescribeImages") < before_wait + 2 {
        assert!(Instant::now() < deadline, "wait_available never polled");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pressed = Instant::now();
    session.send_control('c').expect("failed to send Ctrl-C");
    expect(&mut session, "cancelled by Ctrl-C");
    expect_prompt(&mut session, PROMPT);
    let elapsed = pressed.elapsed();
    assert!(
        elapsed < Duration::from_secs(5),
        "the prompt came back {elapsed:?} after Ctrl-C"
    );

    let polls = world.proxy.count("DescribeImages");
    enter(&mut session, "40 + 2");
    expect_line(&mut session, "42");
    expect_prompt(&mut session, PROMPT);
    assert_eq!(
        world.proxy.count("DescribeImages"),
        polls,
        "the wait went on polling after Ctrl-C"
    );
    assert_eq!(end(session), Some(0));
}

#[test]
fn repl_plan_mode_makes_no_change() {
    let world = World::new();
    let home = tempfile::tempdir().expect("no temp dir");
    let image = make_image(&world, "repl-plan-source");
    let mut session = terminal(&world, home.path());

    enter(&mut session, ":plan on");
    expect_prompt(&mut session, PLAN_PROMPT);
    enter(
        &mut session,
        &format!(
            "create_image(\"{}\", \"repl-planned-image\")",
            world.instance
        ),
    );
    expect(&mut session, "\"(new image 1: ap-south-1)\"");
    expect(&mut session, "plan: 1 change(s) recorded, none made");
    expect(
        &mut session,
        "1. create_image in ap-south-1: (new image 1: ap-south-1)",
    );
    expect_prompt(&mut session, PLAN_PROMPT);

    enter(
        &mut session,
        &format!("share(\"{image}\", [\"123456789012\"])"),
    );
    expect(&mut session, "share in ap-south-1:");
    expect(&mut session, "+ 123456789012");
    expect_prompt(&mut session, PLAN_PROMPT);

    enter(
        &mut session,
        &format!("copy_image(\"{image}\", \"ap-southeast-1\", #{{name: \"repl-planned-copy\"}})"),
    );
    expect(
        &mut session,
        "copy_image in ap-southeast-1: (new image 2: ap-southeast-1)",
    );
    expect_prompt(&mut session, PLAN_PROMPT);
    assert_eq!(end(session), Some(0));

    assert_eq!(world.proxy.mutating_calls(), vec![]);
    assert!(
        world
            .owned_images()
            .iter()
            .all(|i| i.name == "repl-plan-source"),
        "plan mode made an image"
    );
    let source = world.owned_images();
    assert!(source[0].launch.is_empty(), "plan mode shared the image");
}

/// Ctrl-C at the prompt, continuation lines and Ctrl-D need no AWS endpoint.
#[test]
fn repl_ctrl_c_clears_the_line() {
    let home = tempfile::tempdir().expect("no temp dir");
    let mut session = spawn_in_terminal(Amirun::new(None), home.path());
    expect_prompt(&mut session, PROMPT);

    type_keys(&mut session, "this is not rhai");
    session.send_control('c').expect("failed to send Ctrl-C");
    expect_prompt(&mut session, PROMPT);
    enter(&mut session, "6 * 7");
    expect_line(&mut session, "42");
    expect_prompt(&mut session, PROMPT);

    // An open bracket continues the entry on the next line.
    enter(&mut session, "let total = [");
    enter(&mut session, "  100, 200");
    enter(&mut session, "];");
    expect_prompt(&mut session, PROMPT);
    enter(&mut session, "total.len() * 1000");
    expect_line(&mut session, "2000");
    expect_prompt(&mut session, PROMPT);

    // A script loop stops on Ctrl-C too, not only AWS calls.
    enter(&mut session, "let n = 0; loop { n += 1; }");
    std::thread::sleep(Duration::from_millis(500));
    session.send_control('c').expect("failed to send Ctrl-C");
    expect(&mut session, "cancelled by Ctrl-C");
    expect_prompt(&mut session, PROMPT);
    enter(&mut session, "n > 0");
    expect_line(&mut session, "true");
    assert_eq!(end(session), Some(0));
}

#[test]
fn repl_writes_history_to_state_home() {
    let world = World::new();
    let home = tempfile::tempdir().expect("no temp dir");
    let mut session = terminal(&world, home.path());
    enter(&mut session, "let remembered = 17;");
    expect_prompt(&mut session, PROMPT);
    enter(&mut session, "remembered * 3");
    expect_line(&mut session, "51");
    expect_prompt(&mut session, PROMPT);
    assert_eq!(end(session), Some(0));

    let history = std::fs::read_to_string(home.path().join("amirun/history"))
        .expect("no history file under XDG_STATE_HOME");
    assert!(history.contains("let remembered = 17;"), "{history}");
    assert!(history.contains("remembered * 3"), "{history}");

    // The next session can recall the entry with the up arrow.
    let mut session = terminal(&world, home.path());
    enter(&mut session, "let remembered = 1000;");
    expect_prompt(&mut session, PROMPT);
    type_keys(&mut session, "\x1b[A\x1b[A");
    enter(&mut session, "");
    expect_line(&mut session, "3000");
    assert_eq!(end(session), Some(0));
}

#[test]
fn repl_unreadable_history_is_a_warning() {
    let world = World::new();
    let home = tempfile::tempdir().expect("no temp dir");
    // A folder where the history file belongs can be neither read nor written as a file.
    std::fs::create_dir_all(home.path().join("amirun/history")).expect("mkdir failed");
    let mut session = spawn_terminal(&world, home.path());
    let before_prompt = expect_prompt(&mut session, PROMPT);
    assert!(
        before_prompt.contains("cannot read the history; starting without it"),
        "{before_prompt}"
    );

    enter(&mut session, "6 * 7");
    expect(&mut session, "cannot write the history");
    expect_line(&mut session, "42");
    expect_prompt(&mut session, PROMPT);
    assert_eq!(end(session), Some(0));
}

#[test]
fn repl_reads_piped_entries() {
    let world = World::new();
    let finished = piped_repl(
        &world,
        "let ids = [\n  \"a\",\n  \"b\"\n];\nfn count(list) {\n  list.len()\n}\ncount(ids)\n:json\n#{n: count(ids)}\n",
    )
    .success();
    assert_eq!(
        finished.stdout,
        "2\nresults are printed as JSON\n{\n  \"n\": 2\n}\n"
    );
}

#[test]
fn repl_piped_failure_sets_exit_status() {
    let world = World::new();
    let finished = piped_repl(&world, "describe_image(\"ami-0123456789abcdef0\")\n1 + 1\n")
        .failure(1)
        .stderr_contains("code: InvalidAMIID.NotFound")
        .stderr_contains("error: 1 entry failed");
    // The entry after the failure still ran.
    assert_eq!(finished.stdout, "2\n");
}

#[test]
fn repl_load_runs_a_runbook_in_plan_mode() {
    let world = World::new();
    let input = format!(
        ":plan on\n:load runbooks/eduglobal.rhai source_instance={} version=2023.09.1\nimage\n",
        world.instance
    );
    let finished = piped_repl(&world, &input).success();
    assert!(
        finished
            .stdout
            .contains("plan: 12 change(s) recorded, none made"),
        "{}",
        finished.stdout
    );
    assert!(finished.stdout.contains("\"(new image 1: ap-south-1)\""));
    assert_eq!(world.proxy.mutating_calls(), vec![]);
}

/// Calls every host function once through the REPL's engine thread, where a host function
/// that started a runtime of its own would panic.
#[test]
fn repl_calls_every_host_function() {
    let world = World::new();
    let script = format!(
        r#"let owner = caller_account();
print(`owner=${{owner}}`);
print(`region=${{default_region()}}`);
let prepared = prepare_instance("{instance}", ["echo ready"]);
print(`prepared=${{prepared.status}}`);
let image = create_image("{instance}", "repl-every-function");
let copy = copy_image(image, "ap-southeast-1", #{{name: "repl-every-function-copy"}});
let more = copy_images(image, [#{{region: "ap-southeast-3", name: "repl-every-function-copy"}}]);
let states = wait_available([image, copy] + more);
print(`states=${{states.len()}}`);
print(`copy_state=${{describe_image(copy).state}}`);
let granted = share(copy, ["123456789012"]);
print(`added=${{granted.added}}`);
print(`launch=${{launch_permissions(copy)}}`);
print(`shared=${{share_images([#{{image_id: more[0], targets: ["123456789013"]}}])[0].added}}`);
print(`partners=${{load_partners("runbooks/partners/eduglobal.rhai").len()}}`);
print(`uri=${{put_agreement("{bucket}", "repl/record.json", #{{partner: #{{account: "123456789012"}}}})}}`);
print(`uris=${{put_agreements("{bucket}", [#{{key: "repl/batch.json", record: #{{n: 1}}}}])}}`);
print(`report=${{type_of(sharing_report([copy]))}}`);
print(`removed=${{unshare(copy, ["123456789013"]).removed}}`);
print(`retired=${{retire("repl-no-such-prefix-", 1).retired.len()}}`);
try {{ deprecate(copy, "2099-01-01"); print("deprecated=ok"); }} catch (e) {{ print(`deprecated=${{e.code}}`); }}
print(`sha=${{sha256("abc")}}`);
print(`json=${{to_json(#{{b: 2, a: 1}})}}`);
print(`date=${{utc_date().len()}}`);
"#,
        instance = world.instance,
        bucket = fixtures::RECORDS_BUCKET
    );
    let names = host_function_names();
    assert!(
        names.len() >= 14,
        "too few functions in the reference: {names:?}"
    );
    for name in &names {
        assert!(
            script.contains(&format!("{name}(")),
            "the script does not call `{name}`"
        );
    }

    let finished = piped_repl(&world, &script).success();
    let expected = [
        format!("owner={}", fixtures::OWNER_ACCOUNT),
        "region=ap-south-1".to_owned(),
        "prepared=Success".to_owned(),
        "states=3".to_owned(),
        "copy_state=available".to_owned(),
        "added=[\"123456789012\"]".to_owned(),
        "launch=[\"123456789012\"]".to_owned(),
        "shared=[\"123456789013\"]".to_owned(),
        "partners=4".to_owned(),
        format!("uri=s3://{}/repl/record.json", fixtures::RECORDS_BUCKET),
        format!(
            "uris=[\"s3://{}/repl/batch.json\"]",
            fixtures::RECORDS_BUCKET
        ),
        "report=map".to_owned(),
        "removed=[]".to_owned(),
        "retired=0".to_owned(),
        // The emulator does not implement EnableImageDeprecation; the call must still fail
        // cleanly, as an AWS error, rather than panic.
        "deprecated=HTTP500".to_owned(),
        "sha=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".to_owned(),
        "json={\"a\":1,\"b\":2}".to_owned(),
        "date=10".to_owned(),
    ];
    let lines: Vec<&str> = finished.stdout.lines().collect();
    assert_eq!(lines, expected, "stderr:\n{}", finished.stderr);

    let copies: Vec<_> = world
        .owned_images()
        .into_iter()
        .filter(|i| i.name == "repl-every-function-copy")
        .map(|i| (i.region, i.launch))
        .collect();
    assert_eq!(
        copies.len(),
        2,
        "expected one copy in each of two regions: {copies:?}"
    );
    assert!(copies.contains(&("ap-southeast-1".to_owned(), vec!["123456789012".to_owned()])));
    assert!(copies.contains(&("ap-southeast-3".to_owned(), vec!["123456789013".to_owned()])));
    let records = world.records();
    let keys: Vec<&str> = records.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(keys, ["repl/batch.json", "repl/record.json"]);
    assert!(records.iter().all(|r| r.2 == "aws:kms"));
}

#[test]
fn eval_prints_json() {
    let world = World::new();
    let image = make_image(&world, "repl-eval-image");
    let finished = world
        .amirun()
        .env("AMIRUN_STATE_DIR", path_text(world.state.path()))
        .args(["eval", &format!("describe_image(\"{image}\")")])
        .run()
        .success();
    let value = finished.json();
    assert_eq!(value["name"], "repl-eval-image");
    assert_eq!(value["state"], "available");
    assert_eq!(value["image_id"], image.as_str());
}

#[test]
fn eval_caller_account_runs_on_the_engine_thread() {
    let world = World::new();
    let finished = world
        .amirun()
        .env("AMIRUN_STATE_DIR", path_text(world.state.path()))
        .args(["eval", "caller_account()"])
        .run()
        .success();
    assert_eq!(finished.json(), fixtures::OWNER_ACCOUNT);
}

#[test]
fn eval_writes_the_audit_trail() {
    let world = World::new();
    world
        .amirun()
        .env("AMIRUN_STATE_DIR", path_text(world.state.path()))
        .args(["eval", "caller_account()"])
        .run()
        .success();
    let audit = world.state.path().join("audit");
    let files: Vec<_> = std::fs::read_dir(&audit)
        .expect("no audit folder")
        .map(|entry| entry.expect("unreadable entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).expect("unreadable audit file");
    let line: serde_json::Value =
        serde_json::from_str(text.trim()).expect("audit line is not JSON");
    assert_eq!(line["operation"], "GetCallerIdentity");
    assert_eq!(line["runbook"], "repl");
    assert_eq!(line["outcome"], "ok");
}

#[test]
fn eval_syntax_error_exits_2() {
    Amirun::new(None)
        .args(["eval", "1 +"])
        .run()
        .failure(2)
        .stderr_contains("--> entry 1:1:4");
}

#[test]
fn eval_runtime_error_exits_1() {
    let world = World::new();
    world
        .amirun()
        .env("AMIRUN_STATE_DIR", path_text(world.state.path()))
        .args(["eval", "describe_image(\"ami-0123456789abcdef0\")"])
        .run()
        .failure(1)
        .stderr_contains("code: InvalidAMIID.NotFound");
}

#[test]
fn eval_unit_prints_null() {
    let finished = Amirun::new(None)
        .args(["eval", "let x = 1;"])
        .run()
        .success();
    assert_eq!(finished.stdout, "null\n");
}

#[test]
fn doc_prints_markdown_for_every_function() {
    let finished = Amirun::new(None).args(["doc"]).run().success();
    assert!(finished.stdout.starts_with("# amirun function reference\n"));
    let names = host_function_names();
    for name in [
        "caller_account",
        "create_image",
        "share",
        "wait_available",
        "utc_date",
    ] {
        assert!(
            names.iter().any(|n| n == name),
            "`{name}` missing: {names:?}"
        );
    }
    assert!(finished.stdout.contains("## EC2 images"));
    assert!(finished.stdout.contains("### `std/rollout`"));
}

#[test]
fn doc_writes_definition_files() {
    let dir = tempfile::tempdir().expect("no temp dir");
    Amirun::new(None)
        .args(["doc", "--definitions"])
        .arg_path(dir.path())
        .run()
        .success();
    let host = std::fs::read_to_string(dir.path().join("__static__.d.rhai"))
        .expect("no __static__.d.rhai");
    assert!(
        host.contains("fn share(image_id: string, targets: ?) -> map;"),
        "{host}"
    );
    assert!(host.contains("/// Shares an image with accounts"));
    assert!(dir.path().join("__builtin__.d.rhai").exists());
}

/// Plan mode runs the checks a run's preflight makes, after each entry.
#[test]
fn plan_mode_checks_copy_region() {
    let world = World::new();
    let image = make_image(&world, "repl-plan-check");
    let input = format!(
        ":plan on\ncopy_image(\"{image}\", \"ap-nowhere-9\", #{{name: \"repl-plan-copy\"}})\n"
    );
    let finished = piped_repl(&world, &input).failure(1);
    assert!(
        finished
            .stderr
            .contains("plan check failed: region `ap-nowhere-9` is not enabled for this account"),
        "{}",
        finished.stderr
    );
    assert_eq!(world.proxy.count("DescribeRegions"), 1);
    assert_eq!(world.proxy.count("CopyImage"), 0);
}
