//! One SDK configuration and a cache of per-region clients built from it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::operation::RequestId;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use super::{AuditLog, AwsError};
use crate::types::Region;

/// Connection settings: region, profile and endpoint. Unset fields fall back to the SDK's standard chain
/// (`AWS_REGION`, `AWS_PROFILE`, `AWS_ENDPOINT_URL`, SSO, instance roles).
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub region: Option<Region>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

#[derive(Default)]
struct ClientCache {
    ec2: HashMap<Region, aws_sdk_ec2::Client>,
    ssm: HashMap<Region, aws_sdk_ssm::Client>,
    s3: HashMap<Region, aws_sdk_s3::Client>,
    kms: HashMap<Region, aws_sdk_kms::Client>,
    sts: Option<aws_sdk_sts::Client>,
}

/// The AWS connection of one amirun process.
pub struct Aws {
    sdk: SdkConfig,
    default_region: Region,
    path_style_s3: bool,
    clients: Mutex<ClientCache>,
    audit: Arc<AuditLog>,
}

impl Aws {
    /// Loads the SDK configuration once. Fails when no region is configured anywhere.
    pub async fn load(options: &AwsOptions) -> anyhow::Result<Self> {
        // A stalled endpoint must end in an error, not a hang: each attempt gets a minute and
        // each call, retries included, five.
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(10))
            .operation_attempt_timeout(Duration::from_secs(60))
            .operation_timeout(Duration::from_secs(300))
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(timeouts)
            .retry_config(RetryConfig::standard().with_max_attempts(5));
        if let Some(region) = &options.region {
            loader = loader.region(aws_config::Region::new(region.as_str().to_owned()));
        }
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let sdk = loader.load().await;
        let aws = Self::from_sdk_config(sdk)?;
        tracing::info!(region = %aws.default_region, endpoint = ?options.endpoint_url, profile = ?options.profile, "loaded AWS configuration");
        Ok(aws)
    }

    /// Builds the connection from an SDK configuration that the caller loaded. Fails when
    /// the configuration names no region.
    pub fn from_sdk_config(sdk: SdkConfig) -> anyhow::Result<Self> {
        let Some(region) = sdk.region() else {
            anyhow::bail!("no AWS region is configured; pass --region, or set AWS_REGION or a region in your AWS profile");
        };
        let default_region = Region::parse(region.as_ref())?;
        // A custom endpoint (an emulator or a VPC endpoint) rarely resolves bucket subdomains.
        let path_style_s3 =
            sdk.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some();
        Ok(Self {
            sdk,
            default_region,
            path_style_s3,
            clients: Mutex::new(ClientCache::default()),
            audit: Arc::new(AuditLog::default()),
        })
    }

    /// Uses `client` for SSM calls in `region`, as [`Aws::insert_ec2_client`] does for EC2.
    pub fn insert_ssm_client(&self, region: &Region, client: aws_sdk_ssm::Client) {
        self.lock().ssm.insert(region.clone(), client);
    }

    /// Uses `client` for EC2 calls in `region` instead of one built from the SDK
    /// configuration. Tests put SDK-level mocks here.
    pub fn insert_ec2_client(&self, region: &Region, client: aws_sdk_ec2::Client) {
        self.lock().ec2.insert(region.clone(), client);
    }

    /// Uses `client` for KMS calls in `region`, as [`Aws::insert_ec2_client`] does for EC2.
    pub fn insert_kms_client(&self, region: &Region, client: aws_sdk_kms::Client) {
        self.lock().kms.insert(region.clone(), client);
    }

    /// Uses `client` for STS calls, as [`Aws::insert_ec2_client`] does for EC2.
    pub fn insert_sts_client(&self, client: aws_sdk_sts::Client) {
        self.lock().sts = Some(client);
    }

    pub fn default_region(&self) -> &Region {
        &self.default_region
    }

    /// Returns the audit trail of this connection's calls.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    pub fn ec2(&self, region: &Region) -> aws_sdk_ec2::Client {
        let mut cache = self.lock();
        cache
            .ec2
            .entry(region.clone())
            .or_insert_with(|| {
                let config = aws_sdk_ec2::config::Builder::from(&self.sdk)
                    .region(aws_config::Region::new(region.as_str().to_owned()))
                    .build();
                aws_sdk_ec2::Client::from_conf(config)
            })
            .clone()
    }

    pub fn ssm(&self, region: &Region) -> aws_sdk_ssm::Client {
        let mut cache = self.lock();
        cache
            .ssm
            .entry(region.clone())
            .or_insert_with(|| {
                let config = aws_sdk_ssm::config::Builder::from(&self.sdk)
                    .region(aws_config::Region::new(region.as_str().to_owned()))
                    .build();
                aws_sdk_ssm::Client::from_conf(config)
            })
            .clone()
    }

    pub fn s3(&self, region: &Region) -> aws_sdk_s3::Client {
        let mut cache = self.lock();
        cache
            .s3
            .entry(region.clone())
            .or_insert_with(|| {
                let config = aws_sdk_s3::config::Builder::from(&self.sdk)
                    .region(aws_config::Region::new(region.as_str().to_owned()))
                    .force_path_style(self.path_style_s3)
                    .build();
                aws_sdk_s3::Client::from_conf(config)
            })
            .clone()
    }

    pub fn kms(&self, region: &Region) -> aws_sdk_kms::Client {
        let mut cache = self.lock();
        cache
            .kms
            .entry(region.clone())
            .or_insert_with(|| {
                let config = aws_sdk_kms::config::Builder::from(&self.sdk)
                    .region(aws_config::Region::new(region.as_str().to_owned()))
                    .build();
                aws_sdk_kms::Client::from_conf(config)
            })
            .clone()
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        self.lock()
            .sts
            .get_or_insert_with(|| aws_sdk_sts::Client::new(&self.sdk))
            .clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClientCache> {
        self.clients
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Awaits one SDK call, logs it, writes its audit line and converts its error.
    pub async fn call<T, E, F>(
        &self,
        operation: &'static str,
        region: &Region,
        parameters: serde_json::Value,
        request: F,
    ) -> Result<T, AwsError>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        T: RequestId,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        tracing::debug!(operation, %region, %parameters, "calling AWS");
        let result = request
            .await
            .map_err(|error| AwsError::from_sdk(operation, region.as_str(), error));
        let (outcome, request_id) = match &result {
            Ok(output) => ("ok".to_owned(), output.request_id().map(str::to_owned)),
            Err(error) => {
                tracing::debug!(operation, %region, %error, "AWS call failed");
                let outcome = error.script_code();
                (outcome, error.request_id.clone())
            }
        };
        self.audit.record(
            operation,
            region.as_str(),
            &parameters,
            &outcome,
            request_id.as_deref(),
        );
        result
    }
}
