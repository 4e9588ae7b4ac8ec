//! The Aurora PostgreSQL global database: the global cluster and the writer cluster in the
//! primary, a secondary cluster (with at least one instance: a headless secondary cannot take
//! over) in the secondary, Serverless v2 everywhere, isolated subnets, TLS forced, the managed
//! RPO on the primary, 35-day continuous backups, log exports, IAM authentication, Performance
//! Insights with the region's key. Master credentials live in a Secrets Manager secret that
//! replicates to the secondary; the cluster reads them through a dynamic reference.
//!
//! Backtrack is deliberately absent: Aurora PostgreSQL and global databases do not support it.
//! Point-in-time recovery comes from the continuous backups (and AWS Backup's continuous plan).
//!
//! ```
//! use cfn::Expr;
//! use cfn::naming::{Namer, Suffix};
//!
//! let namer = Namer::new(Suffix::parse("qa").unwrap(), "us-east-2");
//! let (_, key) = keys::build(&keys::KeysProps {
//!     namer: namer.clone(), pending_window_days: 7, via_services: vec!["rds".into()], cloudwatch_logs: true, service_principals: vec![], recovery_account: None,
//! })?;
//! let (_, net) = network::build(&network::NetworkProps::new(
//!     namer.clone(), "10.20.0.0/16".parse().unwrap(),
//!     ["us-east-2a", "us-east-2b", "us-east-2c"].map(String::from), &key,
//! ))?;
//! let role = aurora::Role::Secondary { global_cluster_id: Expr::from("aurora-global-qa-us-east-1") };
//! let (fragment, db) = aurora::build(&aurora::AuroraProps::new(namer, role, &key, &net))?;
//! assert!(fragment.resources().len() >= 5);
//! # let _ = db;
//! # Ok::<(), cfn::Error>(())
//! ```

use cfn::aws::{ec2, iam, rds, secretsmanager};
use cfn::iam::{Statement, assume_role_by};
use cfn::naming::{self, Namer};
use cfn::{Error, Expr, Fragment, Handle, LogicalId, Pseudo};
use keys::RegionKey;
use network::Network;

/// The engine of the global database.
pub const ENGINE: &str = "aurora-postgresql";

/// Which side of the global database this stack holds.
#[derive(Clone, Debug)]
pub enum Role {
    /// The global cluster, the writer cluster and the credentials.
    Primary {
        /// The managed RPO in seconds (`rds.global_db_rpo`, at least 20), or none.
        managed_rpo_seconds: Option<u32>,
        /// Writer plus this many readers. Default: 1.
        readers: u32,
        /// The database created in the cluster. Default: `trading`.
        database_name: String,
        /// The master user. Default: `trading_admin`.
        master_username: String,
        /// The secret's replica in the other region, once its key is known.
        secret_replica: Option<SecretReplica>,
    },
    /// A secondary cluster of the global cluster.
    Secondary {
        /// The global cluster's identifier, from the primary stack's outputs.
        global_cluster_id: Expr,
    },
}

/// Where the credentials secret replicates.
#[derive(Clone, Debug)]
pub struct SecretReplica {
    /// The condition under which the replica exists.
    pub condition: LogicalId,
    /// The other region.
    pub region: String,
    /// The other region's key.
    pub key_arn: Expr,
}

/// Properties of this region's part of the global database.
#[derive(Clone, Debug)]
pub struct AuroraProps {
    /// Names the clusters, instances, groups and secret. Required.
    pub namer: Namer,
    /// Which side this stack holds. Required.
    pub role: Role,
    /// The engine version, 14.x with x ≥ 3, identical in both regions. Default: `14.18`.
    pub engine_version: String,
    /// Serverless v2 minimum capacity in ACUs (0.5 to 256). Default: 0.5.
    pub min_capacity: f64,
    /// Serverless v2 maximum capacity in ACUs (up to 256). Default: 16.
    pub max_capacity: f64,
    /// Instances in the secondary cluster, at least 1. Default: 1.
    pub secondary_instances: u32,
    /// Days of continuous backups (point-in-time recovery), 1 to 35. Default: 35.
    pub backup_retention_days: u32,
    /// Performance Insights retention in days (7 is free). Default: 7.
    pub performance_insights_retention_days: u32,
    /// Seconds between enhanced monitoring's OS metrics (1, 5, 10, 15, 30 or 60; 0 turns it
    /// off). Default: 60.
    pub monitoring_interval_seconds: u32,
    /// The region's key (storage, Performance Insights, secret). Required.
    pub key_arn: Expr,
    /// The isolated subnets. Required.
    pub subnets: Expr,
    /// The VPC. Required.
    pub vpc_id: Expr,
    /// The security group whose members may connect on 5432. Required.
    pub client_security_group: Expr,
    /// How the master secret rotates (the primary's; the secondary holds a replica). Required.
    pub rotation: Rotation,
}

/// The rotation of the master secret: a hosted single-user rotation function (Secrets
/// Manager's PostgreSQL template, through the `AWS::SecretsManager` transform) in the private
/// subnets, which reaches the writer on 5432 and Secrets Manager through its interface endpoint.
#[derive(Clone, Debug)]
pub struct Rotation {
    /// Days between rotations, 1 to 365. Default: 30.
    pub days: u32,
    /// The subnets the function runs in (the private ones). Required.
    pub subnets: Vec<Expr>,
    /// The interface endpoints' security group (Secrets Manager is reached through it).
    /// Required.
    pub endpoint_security_group: Expr,
    /// Days the function's log group keeps its logs. Default: 365.
    pub log_retention_days: u32,
}

/// The transform that turns a `HostedRotationLambda` into a rotation function.
pub const ROTATION_TRANSFORM: &str = "AWS::SecretsManager-2024-09-16";

/// Characters the generated password never contains (RDS refuses `/`, `@`, `"` and spaces), the
/// same at creation and at every rotation.
pub const EXCLUDED_CHARACTERS: &str = "\"@/\\ '";

impl AuroraProps {
    /// Props with the defaults for `role`, placed in `network`, encrypted with `key`.
    pub fn new(namer: Namer, role: Role, key: &RegionKey, network: &Network) -> Self {
        AuroraProps {
            namer,
            role,
            engine_version: "14.18".into(),
            min_capacity: 0.5,
            max_capacity: 16.0,
            secondary_instances: 1,
            backup_retention_days: 35,
            performance_insights_retention_days: 7,
            monitoring_interval_seconds: 60,
            key_arn: key.arn(),
            subnets: Network::ids(&network.isolated_subnets),
            vpc_id: network.vpc_id(),
            client_security_group: network.app_security_group.attr_group_id(),
            rotation: Rotation {
                days: 30,
                subnets: network
                    .private_subnets
                    .iter()
                    .map(Handle::reference)
                    .collect(),
                endpoint_security_group: network.endpoint_security_group.attr_group_id(),
                log_retention_days: 365,
            },
        }
    }
}

impl AuroraProps {
    /// The same props with the master secret rotating every `days`.
    pub fn rotating_every(mut self, days: u32) -> Self {
        self.rotation.days = days;
        self
    }
}

/// This region's part of the global database, for grants and configuration.
#[derive(Clone, Debug)]
pub struct Database {
    /// The regional cluster.
    pub cluster: Handle<rds::DbCluster>,
    /// The database's security group.
    pub security_group: Handle<ec2::SecurityGroup>,
    /// The cluster's DB subnet group.
    pub subnet_group: Handle<rds::DbSubnetGroup>,
    /// The credentials secret (primary only; the secondary holds its replica).
    pub secret: Option<Handle<secretsmanager::Secret>>,
    /// The cluster's instances: what serves (and, in a secondary, replicates) once made.
    pub instances: Vec<Handle<rds::DbInstance>>,
}

impl Database {
    /// The cluster's writer endpoint (in the secondary, writable once promoted).
    pub fn writer_endpoint(&self) -> Expr {
        Expr::get_att(self.cluster.id(), "Endpoint.Address")
    }

    /// The cluster's reader endpoint.
    pub fn reader_endpoint(&self) -> Expr {
        Expr::get_att(self.cluster.id(), "ReadEndpoint.Address")
    }

    /// Statements that let a principal connect as database user `user` with IAM
    /// authentication.
    pub fn grant_connect(&self, user: &str) -> Vec<Statement> {
        vec![Statement::allow(
            ["rds-db:connect"],
            [cfn::arn::Arn::new(
                "rds-db",
                format!(
                    "dbuser:${{{}.DBClusterResourceId}}/{user}",
                    self.cluster.id()
                ),
            )
            .expr()],
        )]
    }
}

fn id(s: &str) -> Result<LogicalId, Error> {
    LogicalId::new(s)
}

/// The parameter-group family of an engine version (`14.18` → `aurora-postgresql14`).
fn family(version: &str) -> String {
    format!("{ENGINE}{}", version.split('.').next().unwrap_or(version))
}

/// Builds this region's part of the global database.
pub fn build(props: &AuroraProps) -> Result<(Fragment, Database), Error> {
    cfn::Problems::from(props.problems()).into_result("aurora")?;
    let n = &props.namer;
    let mut f = Fragment::new();

    let subnet_group = f.add(
        id("AuroraSubnetGroup")?,
        rds::DbSubnetGroup::new()
            .db_subnet_group_name(n.name(&naming::DB_SUBNET_GROUP, None))
            .db_subnet_group_description("Aurora: the isolated subnets")
            .subnet_ids(props.subnets.clone()),
    )?;
    let sg = f.add(
        id("AuroraSecurityGroup")?,
        ec2::SecurityGroup::new()
            .group_name(n.name(&naming::DB_SG, None))
            .group_description("Aurora: PostgreSQL from the application tasks only")
            .vpc_id(props.vpc_id.clone())
            .security_group_ingress(vec![
                ec2::security_group::Ingress::new()
                    .ip_protocol("tcp")
                    .from_port(5432)
                    .to_port(5432)
                    .source_security_group_id(props.client_security_group.clone())
                    .description("PostgreSQL from the application tasks"),
            ])
            .security_group_egress(vec![network::no_egress()]),
    )?;

    let mut parameters = vec![("rds.force_ssl".to_string(), Expr::from("1"))];
    if let Role::Primary {
        managed_rpo_seconds: Some(rpo),
        ..
    } = &props.role
    {
        parameters.push(("rds.global_db_rpo".into(), Expr::from(rpo.to_string())));
    }
    let parameter_group = f.add(
        id("AuroraClusterParameters")?,
        rds::DbClusterParameterGroup::new()
            .db_cluster_parameter_group_name(n.name(&naming::DB_PARAMETERS, None))
            .description("Aurora: TLS only, and the managed RPO on the primary")
            .family(family(&props.engine_version))
            .parameters(Expr::Map(parameters.into_iter().collect())),
    )?;

    let mut cluster = rds::DbCluster::new()
        .db_cluster_identifier(n.name(&naming::DB_CLUSTER, None))
        .engine(ENGINE)
        .engine_version(props.engine_version.as_str())
        .port(5432)
        .db_subnet_group_name(subnet_group.reference())
        .vpc_security_group_ids(vec![sg.attr_group_id()])
        .db_cluster_parameter_group_name(parameter_group.reference())
        .storage_encrypted(true)
        .kms_key_id(props.key_arn.clone())
        .backup_retention_period(props.backup_retention_days)
        .preferred_backup_window("03:00-04:00")
        .enable_cloudwatch_logs_exports(vec!["postgresql"])
        .enable_iam_database_authentication(true)
        .deletion_protection(false)
        .copy_tags_to_snapshot(true)
        .serverless_v2_scaling_configuration(
            rds::db_cluster::ServerlessV2ScalingConfiguration::new()
                .min_capacity(props.min_capacity)
                .max_capacity(props.max_capacity),
        );

    let (secret, instances) = match &props.role {
        Role::Primary {
            readers,
            database_name,
            master_username,
            secret_replica,
            ..
        } => {
            let global = f.add(
                id("AuroraGlobalCluster")?,
                rds::GlobalCluster::new()
                    .global_cluster_identifier(n.name(&naming::GLOBAL_CLUSTER, None))
                    .engine(ENGINE)
                    .engine_version(props.engine_version.as_str())
                    .storage_encrypted(true)
                    .deletion_protection(false),
            )?;
            let mut secret = secretsmanager::Secret::new()
                .name(n.name(&naming::DB_SECRET, None))
                .description(format!(
                    "Aurora master credentials, rotated every {} days in this region, replicated to the other",
                    props.rotation.days
                ))
                .kms_key_id(props.key_arn.clone())
                .generate_secret_string(
                    secretsmanager::secret::GenerateSecretString::new()
                        .secret_string_template(format!("{{\"username\":\"{master_username}\"}}"))
                        .generate_string_key("password")
                        .password_length(32)
                        .exclude_characters(EXCLUDED_CHARACTERS),
                );
            if let Some(r) = secret_replica {
                secret = secret.replica_regions(Expr::if_(
                    &r.condition,
                    Expr::List(vec![
                        secretsmanager::secret::ReplicaRegion::new()
                            .region(r.region.as_str())
                            .kms_key_id(r.key_arn.clone())
                            .into(),
                    ]),
                    Expr::pseudo(Pseudo::NoValue),
                ));
            }
            let secret = f.add(id("AuroraSecret")?, secret)?;
            let resolve = |field: &str| {
                Expr::sub(format!(
                    "{{{{resolve:secretsmanager:${{{}}}:SecretString:{field}}}}}",
                    secret.id()
                ))
            };
            cluster = cluster
                .global_cluster_identifier(global.reference())
                .database_name(database_name.as_str())
                .master_username(resolve("username"))
                .master_user_password(resolve("password"));
            // The global writer endpoint (GlobalEndpoint.Address) is not a GetAtt attribute
            // in the registry schema (only the GlobalEndpoint object is, which an output
            // cannot carry): the configuration's writer endpoint stands in (docs/decisions.md).
            f.output(
                id("AuroraGlobalClusterIdentifier")?,
                "The Aurora global cluster",
                global.reference(),
            )?;
            f.output(
                id("AuroraSecretArn")?,
                "The master credentials secret (replicated to the secondary)",
                secret.reference(),
            )?;
            (Some(secret), 1 + readers)
        }
        Role::Secondary { global_cluster_id } => {
            cluster = cluster.global_cluster_identifier(global_cluster_id.clone());
            (None, props.secondary_instances.max(1))
        }
    };
    let cluster = f.add(id("AuroraCluster")?, cluster)?;
    if let Some(secret) = &secret {
        rotation(&mut f, props, secret, &cluster, &sg)?;
    }

    // Enhanced monitoring: OS metrics of each instance, published by RDS with this role.
    let monitoring_role = if props.monitoring_interval_seconds > 0 {
        Some(
            f.add(
                id("AuroraMonitoringRole")?,
                iam::Role::new()
                    .role_name(n.name(&naming::DB_MONITORING_ROLE, None))
                    .description("Lets RDS enhanced monitoring publish the instances' OS metrics")
                    .assume_role_policy_document(assume_role_by("monitoring.rds.amazonaws.com"))
                    .managed_policy_arns(vec![
                        cfn::arn::Arn::new(
                            "iam",
                            "policy/service-role/AmazonRDSEnhancedMonitoringRole",
                        )
                        .without_region()
                        .in_account("aws")
                        .expr(),
                    ]),
            )?,
        )
    } else {
        None
    };

    let mut made = Vec::new();
    for i in 1..=instances {
        let instance = f.add(
            id(&format!("AuroraInstance{i}"))?,
            rds::DbInstance::new()
                .db_instance_identifier(n.name(&naming::DB_INSTANCE, Some(&i.to_string())))
                .db_cluster_identifier(cluster.reference())
                .db_instance_class("db.serverless")
                .engine(ENGINE)
                .publicly_accessible(false)
                // A global database needs the same version everywhere: upgrades are planned.
                .auto_minor_version_upgrade(false)
                .promotion_tier(if i == 1 { 0 } else { 1 })
                .enable_performance_insights(true)
                .performance_insights_kms_key_id(props.key_arn.clone())
                .performance_insights_retention_period(props.performance_insights_retention_days)
                .monitoring_interval(props.monitoring_interval_seconds)
                .monitoring_role_arn(
                    monitoring_role
                        .as_ref()
                        .map_or(Expr::pseudo(cfn::Pseudo::NoValue), |r| r.attr_arn()),
                ),
        )?;
        made.push(instance);
    }

    f.output(
        id("AuroraClusterArn")?,
        "This region's Aurora cluster",
        cluster.attr_db_cluster_arn(),
    )?;
    f.output(
        id("AuroraWriterEndpoint")?,
        "This region's cluster endpoint (the writer while this region is primary)",
        Expr::get_att(cluster.id(), "Endpoint.Address"),
    )?;
    f.output(
        id("AuroraReaderEndpoint")?,
        "This region's reader endpoint",
        Expr::get_att(cluster.id(), "ReadEndpoint.Address"),
    )?;
    Ok((
        f,
        Database {
            cluster,
            security_group: sg,
            subnet_group,
            secret,
            instances: made,
        },
    ))
}

/// The master secret's rotation: the secret learns the cluster (host, port, engine), a
/// function in the private subnets with its own security group (5432 to the database, 443 to the
/// endpoints) rotates it every `days`, once the first instance exists.
fn rotation(
    f: &mut Fragment,
    props: &AuroraProps,
    secret: &Handle<secretsmanager::Secret>,
    cluster: &Handle<rds::DbCluster>,
    db_sg: &Handle<ec2::SecurityGroup>,
) -> Result<(), Error> {
    let n = &props.namer;
    let r = &props.rotation;
    let attachment = f.add(
        id("AuroraSecretAttachment")?,
        secretsmanager::SecretTargetAttachment::new()
            .secret_id(secret.reference())
            .target_id(cluster.reference())
            .target_type("AWS::RDS::DBCluster"),
    )?;
    let rotation_sg = f.add(
        id("AuroraRotationSecurityGroup")?,
        ec2::SecurityGroup::new()
            .group_name(n.name(&naming::DB_ROTATION_SG, None))
            .group_description(
                "Aurora rotation function: PostgreSQL to the database, HTTPS to the endpoints",
            )
            .vpc_id(props.vpc_id.clone())
            .security_group_egress(vec![
                ec2::security_group::Egress::new()
                    .ip_protocol("tcp")
                    .from_port(5432)
                    .to_port(5432)
                    .destination_security_group_id(db_sg.attr_group_id())
                    .description("PostgreSQL to the database"),
                ec2::security_group::Egress::new()
                    .ip_protocol("tcp")
                    .from_port(443)
                    .to_port(443)
                    .destination_security_group_id(r.endpoint_security_group.clone())
                    .description("HTTPS to the interface endpoints (Secrets Manager)"),
            ]),
    )?;
    f.add(
        id("AuroraRotationIngress")?,
        ec2::SecurityGroupIngress::new()
            .group_id(db_sg.attr_group_id())
            .ip_protocol("tcp")
            .from_port(5432)
            .to_port(5432)
            .source_security_group_id(rotation_sg.attr_group_id())
            .description("PostgreSQL from the rotation function"),
    )?;
    // Lambda would make `/aws/lambda/<function>` on first run, unencrypted, kept for ever and
    // left behind by a destroy; made here, it is encrypted, expires and goes with the stack.
    let function = n.name(&naming::DB_ROTATION_FUNCTION, None);
    let log_group = f.add(
        id("AuroraRotationLogGroup")?,
        cfn::aws::logs::LogGroup::new()
            .log_group_name(format!("/aws/lambda/{function}"))
            .kms_key_id(props.key_arn.clone())
            .retention_in_days(r.log_retention_days),
    )?;
    let schedule = id("AuroraSecretRotation")?;
    f.add(
        schedule.clone(),
        secretsmanager::RotationSchedule::new()
            .secret_id(attachment.reference())
            .hosted_rotation_lambda(
                secretsmanager::rotation_schedule::HostedRotationLambda::new()
                    .rotation_type("PostgreSQLSingleUser")
                    .rotation_lambda_name(function.as_str())
                    .vpc_subnet_ids(Expr::join(",", r.subnets.clone()))
                    .vpc_security_group_ids(rotation_sg.attr_group_id())
                    .kms_key_arn(props.key_arn.clone())
                    .exclude_characters(EXCLUDED_CHARACTERS),
            )
            .rotation_rules(
                secretsmanager::rotation_schedule::RotationRules::new()
                    .automatically_after_days(r.days),
            )
            // A deploy that changes the schedule does not rotate there and then.
            .rotate_immediately_on_update(false),
    )?;
    // The first rotation runs at creation: an instance must answer it, into its log group.
    f.depends_on(&schedule, &id("AuroraInstance1")?);
    f.depends_on(&schedule, log_group.id());
    f.transform(ROTATION_TRANSFORM);
    Ok(())
}

/// The rules of Aurora's props, each a check of one value that returns what is wrong (the bad
/// value and what is allowed) or nothing. [`AuroraProps::problems`] and the configuration's
/// validation both use them.
pub mod rules {
    /// Aurora PostgreSQL 14 from 14.3 on (Serverless v2 and global databases need it).
    pub fn engine_version(v: &str) -> Option<String> {
        let minor = v.strip_prefix("14.").and_then(|m| m.parse::<u32>().ok());
        minor.is_none_or(|m| m < 3).then(|| {
            format!(
                "{v:?} is not allowed: use an Aurora PostgreSQL 14 version from 14.3 on (Serverless v2 and global databases need it), e.g. \"14.18\""
            )
        })
    }

    fn half_steps(v: f64) -> bool {
        (v * 2.0).fract() == 0.0
    }

    /// Serverless v2 capacity: 0.5 to 256 ACUs in steps of 0.5.
    pub fn min_capacity(min: f64) -> Option<String> {
        (!(0.5..=256.0).contains(&min) || !half_steps(min)).then(|| {
            format!(
                "{min} is not allowed: Serverless v2 capacity is 0.5 to 256 ACUs in steps of 0.5"
            )
        })
    }

    /// The maximum: from the minimum to 256 ACUs in steps of 0.5.
    pub fn max_capacity(min: f64, max: f64) -> Option<String> {
        (!(min..=256.0).contains(&max) || !half_steps(max)).then(|| {
            format!("{max} is not allowed: use {min} (the minimum) to 256 ACUs in steps of 0.5")
        })
    }

    /// Readers in the primary cluster: 1 to 15.
    pub fn primary_readers(n: u32) -> Option<String> {
        (!(1..=15).contains(&n)).then(|| format!("{n} is not allowed: use 1 to 15 readers"))
    }

    /// Instances in the secondary cluster: 1 to 16.
    pub fn secondary_instances(n: u32) -> Option<String> {
        (!(1..=16).contains(&n)).then(|| {
            format!(
                "{n} is not allowed: use 1 to 16 (a secondary cluster without an instance cannot take over)"
            )
        })
    }

    /// The managed RPO: 0 (off), or 20 to 604,800 seconds.
    pub fn managed_rpo_seconds(s: u32) -> Option<String> {
        (s != 0 && !(20..=604_800).contains(&s)).then(|| {
            format!("{s} is not allowed: 0 turns the managed RPO off, else 20 to 604800 seconds")
        })
    }

    /// Continuous backups: 1 to 35 days.
    pub fn backup_retention_days(d: u32) -> Option<String> {
        (!(1..=35).contains(&d)).then(|| format!("{d} is not allowed: Aurora keeps 1 to 35 days"))
    }

    /// Enhanced monitoring's interval: 1, 5, 10, 15, 30 or 60 seconds, or 0 (off).
    pub fn monitoring_interval_seconds(s: u32) -> Option<String> {
        (![0, 1, 5, 10, 15, 30, 60].contains(&s)).then(|| {
            format!("{s} is not allowed: use 1, 5, 10, 15, 30 or 60 seconds, or 0 to turn enhanced monitoring off")
        })
    }

    /// Performance Insights retention: 7, a multiple of 31 up to 713, or 731 days.
    pub fn performance_insights_retention_days(pi: u32) -> Option<String> {
        (!(pi == 7 || pi == 731 || (pi.is_multiple_of(31) && (31..=713).contains(&pi))))
            .then(|| format!("{pi} is not allowed: use 7, a multiple of 31 up to 713, or 731"))
    }

    fn identifier(s: &str) -> bool {
        (1..=63).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    }

    /// The database's name: 1 to 63 letters, digits and underscores, starting with a letter.
    pub fn database_name(name: &str) -> Option<String> {
        (!identifier(name)).then(|| {
            format!(
                "{name:?} is not allowed: 1 to 63 letters, digits and underscores, starting with a letter"
            )
        })
    }

    /// Names PostgreSQL or RDS keep for themselves.
    pub const RESERVED_USERNAMES: [&str; 5] = ["admin", "postgres", "rdsadmin", "root", "master"];

    /// Days between rotations of the master password, 1 to 365 (Secrets Manager's range for a
    /// schedule in days is 1 to 1000; a password older than a year is no rotation).
    pub fn rotation_days(d: u32) -> Option<String> {
        (!(1..=365).contains(&d))
            .then(|| format!("{d} is not allowed: days between rotations, 1 to 365"))
    }

    /// The master user: an identifier that PostgreSQL and RDS do not reserve.
    pub fn master_username(name: &str) -> Option<String> {
        (!identifier(name) || RESERVED_USERNAMES.contains(&name)).then(|| {
            format!(
                "{name:?} is not allowed: 1 to 63 letters, digits and underscores, starting with a letter, and not one of {}",
                RESERVED_USERNAMES.join(", ")
            )
        })
    }
}

impl AuroraProps {
    /// Every rule these props break (none when they are valid).
    pub fn problems(&self) -> Vec<cfn::Problem> {
        let mut p = cfn::Problems::new();
        p.check(
            "engine_version",
            rules::engine_version(&self.engine_version),
        )
        .check("min_capacity", rules::min_capacity(self.min_capacity))
        .check(
            "max_capacity",
            rules::max_capacity(self.min_capacity, self.max_capacity),
        )
        .check(
            "secondary_instances",
            rules::secondary_instances(self.secondary_instances),
        )
        .check(
            "backup_retention_days",
            rules::backup_retention_days(self.backup_retention_days),
        )
        .check(
            "performance_insights_retention_days",
            rules::performance_insights_retention_days(self.performance_insights_retention_days),
        );
        p.check(
            "monitoring_interval_seconds",
            rules::monitoring_interval_seconds(self.monitoring_interval_seconds),
        );
        p.check("rotation.days", rules::rotation_days(self.rotation.days));
        p.check(
            "rotation.log_retention_days",
            cfn::rules::log_retention_days(self.rotation.log_retention_days),
        );
        if let Role::Primary {
            managed_rpo_seconds,
            readers,
            database_name,
            master_username,
            ..
        } = &self.role
        {
            p.check(
                "role.managed_rpo_seconds",
                rules::managed_rpo_seconds(managed_rpo_seconds.unwrap_or(0)),
            )
            .check("role.readers", rules::primary_readers(*readers))
            .check("role.database_name", rules::database_name(database_name))
            .check(
                "role.master_username",
                rules::master_username(master_username),
            );
        }
        p.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cfn::Template;
    use cfn::naming::Suffix;
    use cfn::testing::{assert_has_resource_properties, assert_resource_count, resources_of};
    use serde_json::{Value, json};

    fn props(role: Role) -> AuroraProps {
        AuroraProps {
            namer: Namer::new(Suffix::parse("qa").unwrap(), "us-east-1"),
            role,
            engine_version: "14.18".into(),
            min_capacity: 0.5,
            max_capacity: 8.0,
            secondary_instances: 1,
            backup_retention_days: 35,
            performance_insights_retention_days: 7,
            monitoring_interval_seconds: 60,
            key_arn: Expr::from("arn:aws:kms:us-east-1:1:key/a"),
            subnets: Expr::from(vec!["subnet-1", "subnet-2", "subnet-3"]),
            vpc_id: Expr::from("vpc-1"),
            client_security_group: Expr::from("sg-app"),
            rotation: Rotation {
                days: 30,
                subnets: vec![Expr::from("subnet-p1"), Expr::from("subnet-p2")],
                endpoint_security_group: Expr::from("sg-endpoints"),
                log_retention_days: 365,
            },
        }
    }

    #[test]
    fn the_primary_rotates_the_master_secret_from_the_private_subnets() {
        let t = render(primary());
        assert_eq!(t["Transform"], json!([ROTATION_TRANSFORM]));
        assert_has_resource_properties(
            &t,
            "AWS::SecretsManager::SecretTargetAttachment",
            json!({"SecretId": {"Ref": "AuroraSecret"}, "TargetId": {"Ref": "AuroraCluster"},
                   "TargetType": "AWS::RDS::DBCluster"}),
        );
        let schedule = &t["Resources"]["AuroraSecretRotation"];
        assert_eq!(
            schedule["DependsOn"],
            json!(["AuroraInstance1", "AuroraRotationLogGroup"])
        );
        assert_has_resource_properties(
            &t,
            "AWS::Logs::LogGroup",
            json!({"LogGroupName": "/aws/lambda/aurora-rotation-qa", "RetentionInDays": 365,
                   "KmsKeyId": "arn:aws:kms:us-east-1:1:key/a"}),
        );
        assert_eq!(
            schedule["Properties"],
            json!({
                "SecretId": {"Ref": "AuroraSecretAttachment"},
                "RotateImmediatelyOnUpdate": false,
                "RotationRules": {"AutomaticallyAfterDays": 30},
                "HostedRotationLambda": {
                    "RotationType": "PostgreSQLSingleUser",
                    "RotationLambdaName": "aurora-rotation-qa",
                    "VpcSubnetIds": {"Fn::Join": [",", ["subnet-p1", "subnet-p2"]]},
                    "VpcSecurityGroupIds": {"Fn::GetAtt": ["AuroraRotationSecurityGroup", "GroupId"]},
                    "KmsKeyArn": "arn:aws:kms:us-east-1:1:key/a",
                    "ExcludeCharacters": EXCLUDED_CHARACTERS
                }
            })
        );
        // The function reaches the database and the endpoints, nothing else.
        let egress =
            &t["Resources"]["AuroraRotationSecurityGroup"]["Properties"]["SecurityGroupEgress"];
        assert_eq!(egress.as_array().unwrap().len(), 2);
        assert_eq!(egress[1]["DestinationSecurityGroupId"], "sg-endpoints");
        assert_has_resource_properties(
            &t,
            "AWS::EC2::SecurityGroupIngress",
            json!({"GroupId": {"Fn::GetAtt": ["AuroraSecurityGroup", "GroupId"]}, "FromPort": 5432,
                   "SourceSecurityGroupId": {"Fn::GetAtt": ["AuroraRotationSecurityGroup", "GroupId"]}}),
        );
        // The secondary holds only the replica: nothing rotates there.
        let t = render(Role::Secondary {
            global_cluster_id: Expr::from("g"),
        });
        assert_resource_count(&t, "AWS::SecretsManager::RotationSchedule", 0);
        assert!(t.get("Transform").is_none());
    }

    #[test]
    fn a_rotation_interval_outside_a_year_is_refused() {
        assert_eq!(rules::rotation_days(30), None);
        let mut p = props(primary());
        p.rotation.days = 0;
        let err = build(&p).err().unwrap().to_string();
        assert!(
            err.contains("rotation.days") && err.contains("1 to 365"),
            "{err}"
        );
    }

    fn primary() -> Role {
        Role::Primary {
            managed_rpo_seconds: Some(20),
            readers: 1,
            database_name: "trading".into(),
            master_username: "trading_admin".into(),
            secret_replica: None,
        }
    }

    fn render(role: Role) -> Value {
        let (f, _) = build(&props(role)).unwrap();
        Template::new("t", f).to_json()
    }

    #[test]
    fn the_primary_holds_the_global_cluster_and_a_writer_with_a_reader() {
        let t = render(primary());
        assert_has_resource_properties(
            &t,
            "AWS::RDS::GlobalCluster",
            json!({"Engine": "aurora-postgresql", "EngineVersion": "14.18", "StorageEncrypted": true, "GlobalClusterIdentifier": "aurora-global-qa-us-east-1"}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::RDS::DBCluster",
            json!({
                "GlobalClusterIdentifier": {"Ref": "AuroraGlobalCluster"},
                "EngineVersion": "14.18",
                "StorageEncrypted": true,
                "KmsKeyId": "arn:aws:kms:us-east-1:1:key/a",
                "BackupRetentionPeriod": 35,
                "EnableCloudwatchLogsExports": ["postgresql"],
                "EnableIAMDatabaseAuthentication": true,
                "DeletionProtection": false,
                "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.5, "MaxCapacity": 8.0},
                "MasterUsername": {"Fn::Sub": "{{resolve:secretsmanager:${AuroraSecret}:SecretString:username}}"},
                "MasterUserPassword": {"Fn::Sub": "{{resolve:secretsmanager:${AuroraSecret}:SecretString:password}}"}
            }),
        );
        assert_resource_count(&t, "AWS::RDS::DBInstance", 2);
        assert_has_resource_properties(
            &t,
            "AWS::RDS::DBInstance",
            json!({"DBInstanceClass": "db.serverless", "EnablePerformanceInsights": true, "PerformanceInsightsKMSKeyId": "arn:aws:kms:us-east-1:1:key/a", "PubliclyAccessible": false}),
        );
        assert_has_resource_properties(
            &t,
            "AWS::RDS::DBClusterParameterGroup",
            json!({"Family": "aurora-postgresql14", "Parameters": {"rds.force_ssl": "1", "rds.global_db_rpo": "20"}}),
        );
        assert_eq!(
            t["Outputs"]["AuroraWriterEndpoint"]["Value"],
            json!({"Fn::GetAtt": ["AuroraCluster", "Endpoint.Address"]})
        );
        assert_eq!(
            t["Outputs"]["AuroraReaderEndpoint"]["Value"],
            json!({"Fn::GetAtt": ["AuroraCluster", "ReadEndpoint.Address"]})
        );
    }

    #[test]
    fn the_secondary_joins_by_identifier_without_credentials_and_keeps_an_instance() {
        let t = render(Role::Secondary {
            global_cluster_id: Expr::from("aurora-global-qa-us-east-1"),
        });
        assert_resource_count(&t, "AWS::RDS::GlobalCluster", 0);
        assert_resource_count(&t, "AWS::SecretsManager::Secret", 0);
        assert_resource_count(&t, "AWS::RDS::DBInstance", 1);
        let cluster = &resources_of(&t, "AWS::RDS::DBCluster")[0].1["Properties"];
        assert_eq!(
            cluster["GlobalClusterIdentifier"],
            "aurora-global-qa-us-east-1"
        );
        assert!(cluster.get("MasterUsername").is_none());
        assert!(cluster.get("MasterUserPassword").is_none());
        let params =
            &resources_of(&t, "AWS::RDS::DBClusterParameterGroup")[0].1["Properties"]["Parameters"];
        assert_eq!(params, &json!({"rds.force_ssl": "1"}));
    }

    #[test]
    fn never_backtrack_and_only_the_tasks_reach_5432() {
        for t in [
            render(primary()),
            render(Role::Secondary {
                global_cluster_id: "g".into(),
            }),
        ] {
            for (_, c) in resources_of(&t, "AWS::RDS::DBCluster") {
                assert!(c["Properties"].get("BacktrackWindow").is_none());
            }
            assert_has_resource_properties(
                &t,
                "AWS::EC2::SecurityGroup",
                json!({"SecurityGroupIngress": [{"FromPort": 5432, "ToPort": 5432, "IpProtocol": "tcp", "SourceSecurityGroupId": "sg-app", "Description": "PostgreSQL from the application tasks"}]}),
            );
        }
    }

    #[test]
    fn the_secret_replicates_with_the_other_regions_key() {
        let mut body = Fragment::new();
        let cond = body
            .condition(id("SecondaryLinked").unwrap(), Expr::equals("a", "a"))
            .unwrap();
        let (f, db) = build(&props(Role::Primary {
            managed_rpo_seconds: None,
            readers: 1,
            database_name: "trading".into(),
            master_username: "trading_admin".into(),
            secret_replica: Some(SecretReplica {
                condition: cond,
                region: "us-east-2".into(),
                key_arn: Expr::from("arn:aws:kms:us-east-2:1:key/b"),
            }),
        }))
        .unwrap();
        body.merge(f).unwrap();
        let t = Template::new("t", body).to_json();
        assert_eq!(
            t["Resources"]["AuroraSecret"]["Properties"]["ReplicaRegions"],
            json!({"Fn::If": ["SecondaryLinked", [{"Region": "us-east-2", "KmsKeyId": "arn:aws:kms:us-east-2:1:key/b"}], {"Ref": "AWS::NoValue"}]})
        );
        assert!(
            resources_of(&t, "AWS::RDS::DBClusterParameterGroup")[0].1["Properties"]["Parameters"]
                .get("rds.global_db_rpo")
                .is_none()
        );
        assert_eq!(
            db.grant_connect("app")[0],
            Statement::allow(
                ["rds-db:connect"],
                [Expr::sub(
                    "arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:${AuroraCluster.DBClusterResourceId}/app"
                )]
            )
        );
    }
}
