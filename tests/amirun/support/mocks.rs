//! SDK-level mocks for what the emulator cannot model: host sessions run in this process,
//! with AWS clients whose responses come from `aws-smithy-mocks` rules. A client either
//! responds only from its rules (any other request panics), or passes unmatched requests
//! through to the emulator, so a test can add a fact moto lacks (such as a snapshot's KMS
//! key) and still check moto's state afterwards.
#![allow(dead_code)]

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use amirun::aws::Aws;
use amirun::host::{runbook_engine, HostContext, HostError, HostSettings, PrintTarget};
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::config::{Credentials, SharedCredentialsProvider};
use aws_smithy_mocks::{create_mock_http_client, MockResponseInterceptor, Rule, RuleMode};

/// A closed local port, so a request that no rule matches and that is not passed through
/// reaches nothing.
const NOWHERE: &str = "http://127.0.0.1:9";

/// Where unmatched requests go: nowhere (they panic in the mock), or to the emulator.
#[derive(Debug, Clone, Copy)]
pub enum Backend<'a> {
    MocksOnly,
    Emulator(&'a str),
}

impl Backend<'_> {
    fn endpoint(&self) -> &str {
        match self {
            Backend::MocksOnly => NOWHERE,
            Backend::Emulator(url) => url,
        }
    }
}

fn credentials() -> SharedCredentialsProvider {
    SharedCredentialsProvider::new(Credentials::new(
        "emulator",
        "emulator",
        None,
        None,
        "amirun-mocks",
    ))
}

/// Builds the SDK configuration of a mocked session: placeholder keys, no retries, and the
/// emulator (or a closed local port) as the endpoint.
pub fn sdk_config(backend: Backend<'_>, region: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(backend.endpoint())
        .credentials_provider(credentials())
        .retry_config(RetryConfig::disabled())
        .build()
}

fn interceptor(backend: Backend<'_>, rules: &[&Rule]) -> MockResponseInterceptor {
    let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
    for rule in rules {
        interceptor = interceptor.with_rule(rule);
    }
    match backend {
        Backend::MocksOnly => interceptor,
        Backend::Emulator(_) => interceptor.allow_passthrough(),
    }
}

/// Builds a client of one SDK crate from `sdk_config`, with the rules as an interceptor.
macro_rules! client_fn {
    ($name:ident, $sdk:ident) => {
        pub fn $name(backend: Backend<'_>, region: &str, rules: &[&Rule]) -> $sdk::Client {
            let mut builder = $sdk::config::Builder::from(&sdk_config(backend, region))
                .interceptor(interceptor(backend, rules));
            if let Backend::MocksOnly = backend {
                builder = builder.http_client(create_mock_http_client());
            }
            $sdk::Client::from_conf(builder.build())
        }
    };
}

client_fn!(ec2_client, aws_sdk_ec2);
client_fn!(kms_client, aws_sdk_kms);
client_fn!(sts_client, aws_sdk_sts);

/// Rules for one session, per service. Services without rules use plain clients of the
/// backend.
#[derive(Default)]
pub struct MockRules<'a> {
    pub ec2: Vec<&'a Rule>,
    pub kms: Vec<&'a Rule>,
    pub sts: Vec<&'a Rule>,
}

/// Builds a connection whose ec2, kms and sts clients in `region` carry the rules.
pub fn mocked_aws(backend: Backend<'_>, region: &str, rules: &MockRules<'_>) -> Aws {
    let aws = Aws::from_sdk_config(sdk_config(backend, region)).expect("no region");
    let parsed = amirun::types::Region::parse(region).expect("bad region");
    aws.insert_ec2_client(&parsed, ec2_client(backend, region, &rules.ec2));
    aws.insert_kms_client(&parsed, kms_client(backend, region, &rules.kms));
    aws.insert_sts_client(sts_client(backend, region, &rules.sts));
    aws
}

/// A runbook engine in this process, bound to a given connection, in execute mode without a
/// journal (as the REPL runs).
pub struct Session {
    runtime: tokio::runtime::Runtime,
    ctx: Rc<HostContext>,
    engine: rhai::Engine,
}

impl Session {
    pub fn new(aws: Aws, allow_public: bool) -> Session {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("failed to start a runtime");
        let settings = HostSettings {
            allow_public,
            ..HostSettings::default()
        };
        let ctx = Rc::new(HostContext::new(
            runtime.handle().clone(),
            settings,
            PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        ));
        assert!(ctx.set_aws(Arc::new(aws)));
        let engine = runbook_engine(&ctx, PrintTarget::Stderr);
        Session {
            runtime,
            ctx,
            engine,
        }
    }

    /// Evaluates a script; an error becomes the host error's message, or Rhai's.
    pub fn eval(&self, script: &str) -> Result<serde_json::Value, String> {
        let _ = &self.runtime;
        match self.engine.eval::<rhai::Dynamic>(script) {
            Ok(value) => Ok(rhai::serde::from_dynamic(&value).expect("result is not JSON")),
            Err(error) => Err(match HostError::find(&error) {
                Some(host) => host.to_string(),
                None => error.to_string(),
            }),
        }
    }

    #[track_caller]
    pub fn eval_ok(&self, script: &str) -> serde_json::Value {
        self.eval(script)
            .unwrap_or_else(|error| panic!("script failed: {error}\n{script}"))
    }

    #[track_caller]
    pub fn eval_err(&self, script: &str) -> String {
        match self.eval(script) {
            Ok(value) => panic!("script succeeded with {value}\n{script}"),
            Err(error) => error,
        }
    }
}
