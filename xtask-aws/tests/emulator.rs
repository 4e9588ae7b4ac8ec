//! The emulator's AWS preconditions (items 35-42, `tests/support/emulator/`), each shown
//! refusing what AWS refuses on a small stack, and allowing it once the dependency or the
//! permission AWS needs is declared. The deploy, runbook and destroy tests run under the same
//! items with the real templates.

mod support;

use serde_json::{Value, json};
use support::Moto;

const REGION: &str = "us-east-1";

fn apply(moto: &Moto, stack: &str, resources: Value) -> Value {
    let template = json!({"Resources": resources}).to_string();
    moto.emulator("apply", &[REGION, stack, &template])
}

fn alarm(name: &str) -> Value {
    json!({"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": name, "Namespace": "N", "MetricName": "M", "Statistic": "Maximum",
        "Period": 60, "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanThreshold"}})
}

fn composite(rule: Value, depends: Value) -> Value {
    json!({"Type": "AWS::CloudWatch::CompositeAlarm", "DependsOn": depends,
        "Properties": {"AlarmName": "composite", "AlarmRule": rule}})
}

/// Items 35 and 37: a composite alarm naming its alarms only by string is made before them
/// (nothing orders them) and CloudWatch refuses it; by Ref it is made after them. Deleting, the
/// alarms a composite alarm names by string go first, and CloudWatch refuses.
#[test]
fn a_composite_alarm_needs_its_alarms_declared() {
    let moto = Moto::start();
    let by_name = apply(
        &moto,
        "named",
        json!({"Alarm": alarm("child"), "Composite": composite(json!("ALARM(\"child\")"), json!([]))}),
    );
    assert_eq!(by_name["status"], "ROLLBACK_COMPLETE", "{by_name}");
    assert!(
        by_name["failed"].to_string().contains(
            "Could not save the composite alarm as alarms [child] in the alarm rule do not exist"
        ),
        "{by_name}"
    );
    let by_ref = apply(
        &moto,
        "referred",
        json!({"Alarm": alarm("child2"), "Composite": composite(json!({"Fn::Sub": "ALARM(\"${Alarm}\")"}), json!([]))}),
    );
    assert_eq!(by_ref["status"], "CREATE_COMPLETE", "{by_ref}");
    assert_eq!(
        moto.emulator("delete", &[REGION, "referred"])["status"],
        "GONE"
    );

    // Made in two steps (the alarm exists first), named by string: deletion takes the alarm first.
    let first = apply(&moto, "later", json!({"Alarm": alarm("child3")}));
    assert_eq!(first["status"], "CREATE_COMPLETE", "{first}");
    let second = apply(
        &moto,
        "later",
        json!({"Alarm": alarm("child3"), "Composite": composite(json!("ALARM(\"child3\")"), json!([]))}),
    );
    assert_eq!(second["status"], "UPDATE_COMPLETE", "{second}");
    let deleted = moto.emulator("delete", &[REGION, "later"]);
    assert_eq!(deleted["status"], "DELETE_FAILED", "{deleted}");
    assert!(
        deleted["failed"].to_string().contains(
            "Cannot delete alarm(s) [child3] as there are composite alarm(s) depending on it"
        ),
        "{deleted}"
    );
}

fn bucket(name: &str) -> Value {
    json!({"Type": "AWS::S3::Bucket", "Properties": {"BucketName": name}})
}

fn trail_policy(bucket_id: &str) -> Value {
    json!({"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": bucket_id}, "PolicyDocument": {"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
         "Resource": {"Fn::Sub": format!("${{{bucket_id}.Arn}}")}},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": {"Fn::Sub": format!("${{{bucket_id}.Arn}}/AWSLogs/*")}}]}}})
}

fn trail(name: &str, bucket_id: &str, depends: Value) -> Value {
    json!({"Type": "AWS::CloudTrail::Trail", "DependsOn": depends, "Properties": {
        "TrailName": name, "S3BucketName": {"Ref": bucket_id}, "IsLogging": true}})
}

/// Items 35, 38 and 40: a trail made before its bucket's policy is refused
/// (InsufficientS3BucketPolicyException); waiting for the policy, it is made.
#[test]
fn a_trail_needs_its_bucket_policy_made_first() {
    let moto = Moto::start();
    let racing = apply(
        &moto,
        "racing",
        json!({"Logs": bucket("trail-logs-a"), "Policy": trail_policy("Logs"), "Trail": trail("trail-a", "Logs", json!([]))}),
    );
    assert_eq!(racing["status"], "ROLLBACK_COMPLETE", "{racing}");
    assert!(
        racing["failed"]
            .to_string()
            .contains("Incorrect S3 bucket policy is detected for bucket: trail-logs-a"),
        "{racing}"
    );
    let ordered = apply(
        &moto,
        "ordered",
        json!({"Logs": bucket("trail-logs-b"), "Policy": trail_policy("Logs"), "Trail": trail("trail-b", "Logs", json!(["Policy"]))}),
    );
    assert_eq!(ordered["status"], "CREATE_COMPLETE", "{ordered}");
}

/// Items 42 and 26: a bucket a writer of its stack logs into receives a late object as the
/// deletion begins, and S3 refuses to delete a bucket that is not empty; the second deletion
/// (the writer gone) succeeds once the bucket is emptied again.
#[test]
fn log_buckets_refill_and_refuse_deletion_until_emptied_again() {
    let moto = Moto::start();
    let made = apply(
        &moto,
        "logging",
        json!({
            "Logs": bucket("access-logs-late"),
            "Data": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "data-late",
                "LoggingConfiguration": {"DestinationBucketName": {"Ref": "Logs"}, "LogFilePrefix": "data/"}}}}),
    );
    assert_eq!(made["status"], "CREATE_COMPLETE", "{made}");
    let first = moto.emulator("delete", &[REGION, "logging"]);
    assert_eq!(first["status"], "DELETE_FAILED", "{first}");
    assert!(
        first["failed"]
            .to_string()
            .contains("Logs: The bucket you tried to delete is not empty"),
        "{first}"
    );
    let emptied = moto.emulator("empty", &[REGION, "access-logs-late"]);
    assert_eq!(
        emptied["keys"],
        json!(["data/late-delivery-Data-0.log"]),
        "{emptied}"
    );
    // The writer went with the first deletion: nothing more arrives, the second one finishes.
    let second = moto.emulator("delete", &[REGION, "logging"]);
    assert_eq!(second["status"], "GONE", "{second}");
}

/// Item 41: a publish to a topic whose key's policy does not let the account use it through
/// SNS is refused (KMSAccessDenied); with `kms:ViaService` sns it is delivered.
#[test]
fn publishing_to_an_encrypted_topic_needs_the_key_policy() {
    let moto = Moto::start();
    let key = |via: &str| {
        json!({"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}},
             "Action": ["kms:Create*", "kms:Describe*", "kms:Put*", "kms:Schedule*"], "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}},
             "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
             "Condition": {"StringEquals": {"kms:ViaService": format!("{via}.us-east-1.amazonaws.com")}}}]}}})
    };
    let topic = |name: &str| json!({"Type": "AWS::SNS::Topic", "Properties": {"TopicName": name, "KmsMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}});
    for (stack, via, expected) in [
        ("s3-only", "s3", Some("KMSAccessDenied")),
        ("through-sns", "sns", None),
    ] {
        let made = apply(
            &moto,
            stack,
            json!({"Key": key(via), "Topic": topic(stack)}),
        );
        assert_eq!(made["status"], "CREATE_COMPLETE", "{made}");
        let arn = format!("arn:aws:sns:{REGION}:{}:{stack}", support::ACCOUNT);
        let published = moto.emulator("publish", &[REGION, &arn]);
        assert_eq!(
            published["error"].as_str(),
            expected,
            "{stack}: {published}"
        );
    }
}

/// Item 43: a log group whose key's policy does not let CloudWatch Logs use it is refused;
/// with the documented statement (the service principal, the group in the encryption context)
/// it is made.
#[test]
fn an_encrypted_log_group_needs_its_key_to_admit_cloudwatch_logs() {
    let moto = Moto::start();
    let key = |logs: bool| {
        let mut statements = vec![json!({"Effect": "Allow",
            "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}},
            "Action": "kms:*", "Resource": "*"})];
        if logs {
            statements.push(json!({"Effect": "Allow",
                "Principal": {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                    {"Fn::Sub": "arn:aws:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"}}}}));
        }
        json!({"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": statements}}})
    };
    let group = |name: &str| {
        json!({"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": name,
            "KmsKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}})
    };
    let refused = apply(
        &moto,
        "no-logs",
        json!({"Key": key(false), "Group": group("/a")}),
    );
    assert_eq!(refused["status"], "ROLLBACK_COMPLETE", "{refused}");
    assert!(
        refused["failed"]
            .to_string()
            .contains("is not allowed to be used with Arn"),
        "{refused}"
    );
    let made = apply(
        &moto,
        "logs",
        json!({"Key": key(true), "Group": group("/b")}),
    );
    assert_eq!(made["status"], "CREATE_COMPLETE", "{made}");
}

/// Items 45-48: Route 53's metric health checks follow the data stream (each
/// InsufficientDataHealthStatus), promotions take minutes, an old primary is rebuilt after a
/// failover with data loss and switchover is refused until it rejoins, and Step Functions names
/// SDK errors as the Java SDK does (emulator_selftest.py says each check).
#[test]
fn route53_rds_and_step_functions_behave_as_aws_documents() {
    let moto = Moto::start_with_clock(0.01);
    let report = moto.selftest(0.01);
    let text = report.to_string();
    assert!(!text.contains("\"ok\":false"), "{report:#}");
    assert!(text.contains("LastKnownStatus"), "{report:#}");
}
