//! Checks the test proxy itself against the emulator.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::proxy::{Call, Proxy, ProxyOptions};
use crate::support::Emulator as Moto;
use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ec2::error::SdkError;
use aws_sdk_ec2::types::{Filter, ImageState};
use aws_smithy_types::retry::RetryConfig;

const ACCOUNT: &str = "210987654321";

fn credentials() -> Credentials {
    Credentials::new("emulator", "emulator", None, None, "proxy_check")
}

// Built from explicit settings only, so nothing is read from the environment.
macro_rules! client {
    ($sdk:ident, $proxy:expr, $region:expr) => {
        $sdk::Client::from_conf(
            $sdk::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new($region))
                .credentials_provider(credentials())
                .endpoint_url($proxy.url())
                .retry_config(RetryConfig::disabled())
                .build(),
        )
    };
}

fn ec2(proxy: &Proxy, region: &'static str) -> aws_sdk_ec2::Client {
    client!(aws_sdk_ec2, proxy, region)
}

fn call(service: &str, operation: &str, region: &str) -> Call {
    Call {
        service: service.into(),
        operation: operation.into(),
        region: region.into(),
    }
}

/// Registers an image and starts an instance of it, so that CreateImage has
/// something to work on.
async fn instance(ec2: &aws_sdk_ec2::Client) -> String {
    let base = ec2
        .register_image()
        .name("proxy-check-base")
        .send()
        .await
        .unwrap()
        .image_id
        .unwrap();
    let run = ec2
        .run_instances()
        .image_id(base)
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .unwrap();
    run.instances()[0].instance_id.clone().unwrap()
}

async fn create_image(ec2: &aws_sdk_ec2::Client, instance: &str, name: &str) -> String {
    ec2.create_image()
        .instance_id(instance)
        .name(name)
        .send()
        .await
        .unwrap()
        .image_id
        .unwrap()
}

async fn image(ec2: &aws_sdk_ec2::Client, id: &str) -> aws_sdk_ec2::types::Image {
    let out = ec2.describe_images().image_ids(id).send().await.unwrap();
    assert_eq!(out.images().len(), 1, "{id}");
    out.images()[0].clone()
}

#[tokio::test]
async fn counts_calls_by_service_operation_and_region() {
    let moto = Moto::start();
    let proxy = Proxy::start(ProxyOptions::new(moto.addr)).unwrap();

    let south = ec2(&proxy, "ap-south-1");
    let west = ec2(&proxy, "eu-west-1");
    south.describe_regions().send().await.unwrap();
    west.describe_regions().send().await.unwrap();
    south.register_image().name("counted").send().await.unwrap();

    let sts = client!(aws_sdk_sts, proxy, "us-east-1");
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some(ACCOUNT));

    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials())
            .endpoint_url(proxy.url())
            .force_path_style(true)
            .retry_config(RetryConfig::disabled())
            .build(),
    );
    let bucket = "amirun-proxy-check";
    let key = "runs/one two.json";
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(b"{\"ok\":true}".to_vec().into())
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    // The length of a HEAD reply is the object's, not that of an empty body.
    assert_eq!(head.content_length(), Some(11));
    let got = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    let body = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(&body[..], b"{\"ok\":true}");
    let listed = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    assert_eq!(listed.key_count(), Some(1));
    s3.delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();

    let ssm = client!(aws_sdk_ssm, proxy, "ap-south-1");
    ssm.put_parameter()
        .name("/amirun/check")
        .value("1")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    ssm.get_parameter()
        .name("/amirun/check")
        .send()
        .await
        .unwrap();

    let kms = client!(aws_sdk_kms, proxy, "eu-west-1");
    let key_id = kms
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    kms.create_grant()
        .key_id(key_id)
        .grantee_principal(format!("arn:aws:iam::{ACCOUNT}:role/partner"))
        .operations(aws_sdk_kms::types::GrantOperation::Decrypt)
        .send()
        .await
        .unwrap();

    let expected = vec![
        call("ec2", "DescribeRegions", "ap-south-1"),
        call("ec2", "DescribeRegions", "eu-west-1"),
        call("ec2", "RegisterImage", "ap-south-1"),
        call("sts", "GetCallerIdentity", "us-east-1"),
        call("s3", "CreateBucket", "us-east-1"),
        call("s3", "PutObject", "us-east-1"),
        call("s3", "HeadObject", "us-east-1"),
        call("s3", "GetObject", "us-east-1"),
        call("s3", "ListObjectsV2", "us-east-1"),
        call("s3", "DeleteObject", "us-east-1"),
        call("ssm", "PutParameter", "ap-south-1"),
        call("ssm", "GetParameter", "ap-south-1"),
        call("kms", "CreateKey", "eu-west-1"),
        call("kms", "CreateGrant", "eu-west-1"),
    ];
    assert_eq!(proxy.calls(), expected);
    assert_eq!(proxy.count("DescribeRegions"), 2);
    assert_eq!(proxy.count_in("eu-west-1", "DescribeRegions"), 1);
    let mutating: Vec<String> = proxy
        .mutating_calls()
        .into_iter()
        .map(|call| call.operation)
        .collect();
    assert_eq!(
        mutating,
        [
            "RegisterImage",
            "CreateBucket",
            "PutObject",
            "DeleteObject",
            "PutParameter",
            "CreateKey",
            "CreateGrant"
        ]
    );
    proxy.clear_calls();
    assert!(proxy.calls().is_empty());
    south.describe_regions().send().await.unwrap();
    assert_eq!(
        proxy.calls(),
        [call("ec2", "DescribeRegions", "ap-south-1")]
    );
}

#[tokio::test]
async fn dropped_reply_still_does_the_work() {
    let moto = Moto::start();
    let proxy = Proxy::start(ProxyOptions::new(moto.addr)).unwrap();
    let ec2 = ec2(&proxy, "ap-south-1");
    let instance = instance(&ec2).await;

    proxy.drop_reply("CreateImage", 2);
    create_image(&ec2, &instance, "first-image").await;
    let lost = ec2
        .create_image()
        .instance_id(&instance)
        .name("second-image")
        .send()
        .await
        .expect_err("the reply was to be lost");
    assert!(matches!(lost, SdkError::DispatchFailure(_)), "{lost:?}");
    create_image(&ec2, &instance, "third-image").await;

    let mine = ec2.describe_images().owners("self").send().await.unwrap();
    let mut names: Vec<&str> = mine.images().iter().filter_map(|i| i.name()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "first-image",
            "proxy-check-base",
            "second-image",
            "third-image"
        ]
    );
    assert_eq!(proxy.count("CreateImage"), 3);
}

#[tokio::test]
async fn new_images_stay_pending_for_a_while() {
    let moto = Moto::start();
    let pending_for = Duration::from_millis(1500);
    let proxy = Proxy::start(ProxyOptions {
        pending_for,
        ..ProxyOptions::new(moto.addr)
    })
    .unwrap();
    let south = ec2(&proxy, "ap-south-1");
    let west = ec2(&proxy, "eu-west-1");
    let instance = instance(&south).await;
    let base = south
        .describe_instances()
        .send()
        .await
        .unwrap()
        .reservations()[0]
        .instances()[0]
        .image_id
        .clone()
        .unwrap();

    let created = create_image(&south, &instance, "shaped").await;
    let copied = west
        .copy_image()
        .source_region("ap-south-1")
        .source_image_id(&created)
        .name("shaped-copy")
        .send()
        .await
        .unwrap()
        .image_id
        .unwrap();
    // The copy's pending time starts when the proxy receives it, which on a loaded machine can be
    // well after the create.
    let copied_at = Instant::now();

    assert_eq!(
        image(&south, &created).await.state,
        Some(ImageState::Pending)
    );
    assert_eq!(image(&west, &copied).await.state, Some(ImageState::Pending));
    // In one reply, only the item of the new image is reshaped.
    let mine = south.describe_images().owners("self").send().await.unwrap();
    let mut states: Vec<(String, ImageState)> = mine
        .images()
        .iter()
        .map(|i| (i.image_id.clone().unwrap(), i.state.clone().unwrap()))
        .collect();
    states.sort_by_key(|(id, _)| *id != base);
    assert_eq!(
        states,
        [
            (base.clone(), ImageState::Available),
            (created.clone(), ImageState::Pending)
        ]
    );
    // A state filter no longer matches the reshaped image.
    let available = south
        .describe_images()
        .owners("self")
        .filters(Filter::builder().name("state").values("available").build())
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = available
        .images()
        .iter()
        .filter_map(|i| i.image_id())
        .collect();
    assert_eq!(ids, [base.as_str()]);

    tokio::time::sleep((copied_at + pending_for + Duration::from_millis(100)) - Instant::now())
        .await;
    assert_eq!(
        image(&south, &created).await.state,
        Some(ImageState::Available)
    );
    assert_eq!(
        image(&west, &copied).await.state,
        Some(ImageState::Available)
    );
}

#[tokio::test]
async fn failed_images_show_their_reason() {
    let moto = Moto::start();
    let proxy = Proxy::start(ProxyOptions::new(moto.addr)).unwrap();
    let ec2 = ec2(&proxy, "ap-south-1");
    let instance = instance(&ec2).await;
    let created = create_image(&ec2, &instance, "doomed").await;
    assert_eq!(
        image(&ec2, &created).await.state,
        Some(ImageState::Available)
    );

    proxy.fail_image(
        &created,
        "Client.InvalidSnapshot",
        "snapshot <snap-1> & co gone",
    );
    let failed = image(&ec2, &created).await;
    assert_eq!(failed.state, Some(ImageState::Failed));
    let reason = failed.state_reason.unwrap();
    assert_eq!(reason.code(), Some("Client.InvalidSnapshot"));
    assert_eq!(reason.message(), Some("snapshot <snap-1> & co gone"));
    let waited = ec2
        .wait_until_image_available()
        .image_ids(&created)
        .wait(Duration::from_secs(5))
        .await;
    assert!(waited.is_err(), "the waiter must stop on a failed image");

    proxy.fail_next_copy("Server.InternalError", "copy broke");
    let copy = |name: &'static str| {
        ec2.copy_image()
            .source_region("ap-south-1")
            .source_image_id(&created)
            .name(name)
            .send()
    };
    let broken = copy("broken-copy").await.unwrap().image_id.unwrap();
    let fine = copy("fine-copy").await.unwrap().image_id.unwrap();
    let broken = image(&ec2, &broken).await;
    assert_eq!(broken.state, Some(ImageState::Failed));
    assert_eq!(broken.state_reason.unwrap().message(), Some("copy broke"));
    assert_eq!(image(&ec2, &fine).await.state, Some(ImageState::Available));
}

/// Reads one response and returns its status line, headers and body.
fn read_response(reader: &mut impl BufRead) -> (String, Vec<String>, Vec<u8>) {
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end().to_string();
        if line.is_empty() {
            break;
        }
        headers.push(line);
    }
    let length: usize = headers
        .iter()
        .find_map(|h| {
            let (name, value) = h.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (status.trim_end().to_string(), headers, body)
}

fn signed_head(proxy: &Proxy, region: &str) -> String {
    format!(
        "POST / HTTP/1.1\r\nHost: {}\r\n\
         Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=emulator/20261204/{region}/ec2/aws4_request, \
         SignedHeaders=host, Signature=00\r\nX-Amz-Date: 20261204T000000Z\r\n",
        proxy.url().trim_start_matches("http://")
    )
}

#[test]
fn raw_http_chunked_continue_keepalive_and_latency() {
    let moto = Moto::start();
    let latency = Duration::from_millis(200);
    let proxy = Proxy::start(ProxyOptions {
        latency,
        ..ProxyOptions::new(moto.addr)
    })
    .unwrap();
    let addr = proxy.url().trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&addr).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());

    let started = Instant::now();
    let head = signed_head(&proxy, "ap-south-1")
        + "Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n";
    stream.write_all(head.as_bytes()).unwrap();
    let mut interim = String::new();
    reader.read_line(&mut interim).unwrap();
    assert_eq!(interim.trim_end(), "HTTP/1.1 100 Continue");
    let mut blank = String::new();
    reader.read_line(&mut blank).unwrap();
    assert_eq!(blank, "\r\n");
    stream
        .write_all(b"7\r\nAction=\r\n22\r\nDescribeRegions&Version=2016-11-15\r\n0\r\n\r\n")
        .unwrap();
    let (status, _, body) = read_response(&mut reader);
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(String::from_utf8_lossy(&body).contains("<DescribeRegionsResponse"));
    assert!(started.elapsed() >= latency);

    // The same connection serves the next request.
    let form = "Action=DescribeRegions&Version=2016-11-15";
    let request =
        signed_head(&proxy, "eu-west-1") + &format!("Content-Length: {}\r\n\r\n{form}", form.len());
    stream.write_all(request.as_bytes()).unwrap();
    let (status, headers, body) = read_response(&mut reader);
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(!headers
        .iter()
        .any(|h| h.to_ascii_lowercase().starts_with("connection:")));
    assert!(String::from_utf8_lossy(&body).contains("<DescribeRegionsResponse"));

    assert_eq!(
        proxy.calls(),
        [
            call("ec2", "DescribeRegions", "ap-south-1"),
            call("ec2", "DescribeRegions", "eu-west-1")
        ]
    );
}
