//! The secondary (recovery) region's stack (us-east-2 by default), as a bill of materials: each
//! component its Cargo feature enables, wired through typed handles.
//!
//! It is deployed after the primary and takes the primary's outputs as parameters: the primary
//! VPC id, which the peering connection requests. Its buckets receive the primary's replicas.

use cfn::{Error, Fragment, Template};
use environment::{Environment, RegionRole};

/// Names of the parameters the deploy manifest feeds and of the outputs it reads.
pub mod wiring {
    /// Parameter: the primary VPC to peer with.
    pub const PRIMARY_VPC_ID: &str = "PrimaryVpcId";
    /// Parameter: the public hosted zone, where the certificate is validated.
    pub const HOSTED_ZONE_ID: &str = "HostedZoneId";
    /// Output: the load balancer's DNS name, for the SECONDARY record.
    pub const LB_DNS: &str = "LoadBalancerDnsName";
    /// Output: the load balancer's hosted zone, for the SECONDARY record.
    pub const LB_ZONE: &str = "LoadBalancerHostedZoneId";
    /// Parameter: the Aurora global cluster to join.
    pub const GLOBAL_CLUSTER_ID: &str = "AuroraGlobalClusterIdentifier";
    /// Output: the peering connection, which the primary routes through.
    pub const PEERING_CONNECTION_ID: &str = "PeeringConnectionId";
    /// Output: the secondary region's key, which encrypts what the primary replicates.
    pub const REGION_KEY_ARN: &str = "RegionKeyArn";
}

const ROLE: RegionRole = RegionRole::Secondary;

/// Builds the secondary region's template for `env`.
#[allow(unused_variables, unused_mut, clippy::vec_init_then_push)]
pub fn stack(env: &Environment) -> Result<Template, Error> {
    let mut body = Fragment::new();
    // The sessions replica in this region is created by the primary stack's global table, with
    // this region's key, through DynamoDB.
    let users = foundation::KeyUsers {
        storage: cfg!(feature = "storage"),
        sessions: cfg!(feature = "sessions"),
        aurora: cfg!(feature = "aurora"),
        backup: cfg!(feature = "backup"),
        events: cfg!(feature = "events"),
    };
    let base = foundation::build(env, ROLE, users, &mut body)?;

    #[cfg(feature = "peering")]
    {
        use cfn::{LogicalId, Parameter};
        let primary_vpc = body.parameter(
            LogicalId::new(wiring::PRIMARY_VPC_ID)?,
            Parameter::string("The primary region's VPC, from the primary stack's outputs")
                .pattern("^vpc-[0-9a-f]+$"),
        )?;
        let (f, _) = peering::requester(&peering::RequesterProps {
            namer: env.namer(ROLE),
            vpc_id: base.network.vpc_id(),
            peer_vpc_id: primary_vpc,
            peer_region: env.region(RegionRole::Primary).name.clone(),
            peer_cidr: env.vpc_cidr(RegionRole::Primary),
            route_tables: base.network.internal_route_table_refs(),
        })?;
        body.merge(f)?;
    }

    #[cfg(feature = "storage")]
    let buckets = {
        let (f, buckets) = storage::build(&storage::StorageProps {
            noncurrent_version_days: env.config.storage.noncurrent_version_days,
            ..storage::StorageProps::new(env.namer(ROLE), &base.key)
        })?;
        body.merge(f)?;
        buckets
    };

    #[cfg(feature = "aurora")]
    let database = {
        use cfn::{LogicalId, Parameter};
        let a = &env.config.aurora;
        let global_cluster_id = body.parameter(
            LogicalId::new(wiring::GLOBAL_CLUSTER_ID)?,
            Parameter::string("The Aurora global cluster, from the primary stack's outputs")
                .pattern("^[a-zA-Z][a-zA-Z0-9-]{0,62}$"),
        )?;
        let (f, database) = aurora::build(&aurora::AuroraProps {
            engine_version: a.engine_version.clone(),
            min_capacity: a.min_capacity_acu,
            max_capacity: a.max_capacity_acu,
            secondary_instances: a.secondary_instances,
            backup_retention_days: a.backup_retention_days,
            performance_insights_retention_days: a.performance_insights_retention_days,
            ..aurora::AuroraProps::new(
                env.namer(ROLE),
                aurora::Role::Secondary { global_cluster_id },
                &base.key,
                &base.network,
            )
        })?;
        body.merge(f)?;
        database
    };

    #[cfg(feature = "events")]
    let bus = {
        let (f, bus) = events::bus(&events::BusProps {
            namer: env.namer(ROLE),
            app: env.config.app.clone(),
            key_arn: base.key.arn(),
            archive_retention_days: env.config.events.archive_retention_days,
            log_retention_days: env.config.network.flow_log_retention_days,
        })?;
        body.merge(f)?;
        bus
    };

    #[cfg(feature = "backup")]
    {
        let b = &env.config.backup;
        // Each push depends on its own feature (hence the allowance on this function).
        let mut daily_resources = Vec::new();
        // The sessions replica in this region, made by the primary stack's global table.
        #[cfg(feature = "sessions")]
        daily_resources.push(cfn::Expr::sub(format!(
            "arn:${{AWS::Partition}}:dynamodb:${{AWS::Region}}:${{AWS::AccountId}}:table/{}",
            env.namer(ROLE).name(&cfn::naming::SESSIONS_TABLE, None)
        )));
        #[cfg(feature = "storage")]
        daily_resources.push(buckets.config.attr_arn());
        let (f, _) = backup::build(&backup::BackupProps {
            vault_lock: b.vault_lock.then_some(backup::VaultLock {
                min_days: b.lock_min_retention_days,
                max_days: b.lock_max_retention_days,
            }),
            schedule: b.schedule.clone(),
            daily_retention_days: b.daily_retention_days,
            continuous_retention_days: b.continuous_retention_days,
            daily_resources,
            copy_to: Some(backup::CopyTo {
                vault_arn: backup::vault_arn(&env.namer(RegionRole::Primary)),
                condition: None,
            }),
            ..backup::BackupProps::new(env.namer(ROLE), base.key.arn())
        })?;
        body.merge(f)?;
    }

    #[cfg(feature = "configuration")]
    {
        // With every feature on, the update fills nothing; with some off, it fills the rest.
        #[allow(clippy::needless_update)]
        let inputs = foundation::ConfigurationInputs {
            #[cfg(feature = "aurora")]
            database: Some((database.writer_endpoint(), database.reader_endpoint())),
            #[cfg(feature = "sessions")]
            sessions: true,
            #[cfg(feature = "events")]
            event_bus: Some(bus.name()),
            #[cfg(feature = "storage")]
            buckets: Some((buckets.data.reference(), buckets.config.reference())),
            ..Default::default()
        };
        let (f, replication) = foundation::configuration(env, ROLE, &base, inputs)?;
        body.merge(f)?;
        body.merge(configuration::target_side(&replication)?)?;
    }

    #[cfg(feature = "service")]
    let app = {
        use cfn::{LogicalId, Parameter};
        let zone_name = foundation::zone_name(env);
        let zone_id = body.parameter(
            LogicalId::new(wiring::HOSTED_ZONE_ID)?,
            Parameter::string("The public hosted zone, from the primary stack's outputs")
                .pattern("^Z[A-Z0-9]+$"),
        )?;
        let (f, certificate) = dns::certificate("secondary", &zone_name, zone_id.clone())?;
        body.merge(f)?;
        let mut task_statements = vec![parameters_read(env)];
        // The sessions replica in this region, made by the primary stack's global table.
        #[cfg(feature = "sessions")]
        task_statements.extend(sessions::table_grants(
            cfn::Expr::sub(format!(
                "arn:${{AWS::Partition}}:dynamodb:${{AWS::Region}}:${{AWS::AccountId}}:table/{}",
                env.namer(ROLE).name(&cfn::naming::SESSIONS_TABLE, None)
            )),
            base.key.arn(),
        ));
        #[cfg(feature = "storage")]
        task_statements.extend(buckets.grant_data_read_write());
        #[cfg(feature = "aurora")]
        task_statements.extend(database.grant_connect("app"));
        #[cfg(feature = "events")]
        task_statements.extend(bus.grant_put_events());
        let app = foundation::service(
            env,
            ROLE,
            &base,
            foundation::ServiceInputs {
                #[cfg(feature = "aurora")]
                db_host: Some(database.writer_endpoint()),
                #[cfg(not(feature = "aurora"))]
                db_host: None,
                certificate_arn: certificate.reference(),
                task_statements,
            },
            &mut body,
        )?;
        body.merge(dns::regional_record(
            "secondary",
            &zone_name,
            zone_id,
            app.dns_name(),
            app.hosted_zone_id(),
        )?)?;
        let (f, _) = dns::switch_alarm(&env.namer(ROLE))?;
        body.merge(f)?;
        app
    };

    #[cfg(feature = "canaries")]
    {
        let m = &env.config.monitoring;
        let props = canaries::MonitoringProps {
            emails: m.emails.clone(),
            runtime: m.runtime.clone(),
            schedule: m.schedule.clone(),
            expected_body: m.expected_body.clone(),
            success_threshold_percent: m.success_threshold_percent,
            duration_threshold_ms: m.duration_threshold_ms,
            ..canaries::MonitoringProps::new(env.namer(ROLE), base.key.arn())
        };
        let (mut f, monitoring) = canaries::topic_and_bucket(&props)?;
        let zone_name = foundation::zone_name(env);
        let url = |label: &str| {
            cfn::Expr::from(format!(
                "https://{}{}",
                dns::regional_name(label, &zone_name),
                env.config.service.health_path
            ))
        };
        canaries::canary(
            &mut f,
            &props,
            &monitoring,
            "Canary",
            &cfn::naming::CANARY,
            url("secondary"),
        )?;
        // The primary seen from outside it, from the recovery region.
        let outside_in = canaries::canary(
            &mut f,
            &props,
            &monitoring,
            "OutsideInCanary",
            &cfn::naming::CANARY_OUTSIDE_IN,
            url("primary"),
        )?;
        #[cfg(feature = "aurora")]
        let primary_failure = canaries::primary_failure_alarm(
            &mut f,
            &props,
            &monitoring,
            &outside_in,
            &env.namer(ROLE).name(&cfn::naming::DB_CLUSTER, None),
            m.replication_lag_threshold_ms,
        )?;
        body.merge(f)?;

        #[cfg(feature = "runbook")]
        body.merge(runbooks(env, &base, &outside_in, &primary_failure)?)?;
    }

    foundation::finish(env, ROLE, body)
}

/// Lets the application read its configuration parameters (`/<app>/<suffix>/…`).
#[cfg(feature = "service")]
fn parameters_read(env: &Environment) -> cfn::iam::Statement {
    let path = format!(
        "arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{}/{}",
        env.config.app, env.suffix
    );
    cfn::iam::Statement::allow(
        [
            "ssm:GetParameter",
            "ssm:GetParameters",
            "ssm:GetParametersByPath",
        ],
        [
            cfn::Expr::sub(path.clone()),
            cfn::Expr::sub(format!("{path}/*")),
        ],
    )
}

/// The failover and failback runbooks, with exactly the permissions their steps need.
#[cfg(feature = "runbook")]
fn runbooks(
    env: &Environment,
    base: &foundation::Foundation,
    outside_in_alarm: &str,
    trigger_alarm: &str,
) -> Result<Fragment, Error> {
    use cfn::Expr;
    use cfn::iam::Statement;
    use cfn::naming::{
        ALERT_TOPIC, CANARY_ALARM, DB_CLUSTER, ECS_CLUSTER, ECS_SERVICE, EVENT_BUS, GLOBAL_CLUSTER,
        RUNBOOK_LOCK, SWITCH_ALARM,
    };
    let here = env.namer(ROLE);
    let primary = env.namer(RegionRole::Primary);
    let region = here.region().to_string();
    let arn = |service: &str, region: &str, rest: &str| {
        format!("arn:${{AWS::Partition}}:{service}:{region}:${{AWS::AccountId}}:{rest}")
    };
    let lag_alarm = here.name(&CANARY_ALARM, Some("replication-lag"));
    let switch_alarm = here.name(&SWITCH_ALARM, None);
    let global = primary.name(&GLOBAL_CLUSTER, None);
    let inputs = runbook::Inputs {
        lock_table: here.name(&RUNBOOK_LOCK, None),
        global_cluster: global.clone(),
        recovery_cluster_arn: arn(
            "rds",
            &region,
            &format!("cluster:{}", here.name(&DB_CLUSTER, None)),
        ),
        primary_cluster_arn: arn(
            "rds",
            primary.region(),
            &format!("cluster:{}", primary.name(&DB_CLUSTER, None)),
        ),
        outage_alarms: [outside_in_alarm.to_string(), lag_alarm.clone()],
        switch_alarm: switch_alarm.clone(),
        switch_metric: (
            dns::SWITCH_NAMESPACE.to_string(),
            dns::SWITCH_METRIC.to_string(),
            env.suffix.to_string(),
        ),
        active_region_parameter: format!("/{}/{}/shared/active-region", env.config.app, env.suffix),
        failover_flag_parameter: format!(
            "/{}/{}/shared/flags/{}",
            env.config.app,
            env.suffix,
            cfn::naming::FAILOVER_FLAG
        ),
        regions: (primary.region().to_string(), region.clone()),
        ecs: (here.name(&ECS_CLUSTER, None), here.name(&ECS_SERVICE, None)),
        counts: (
            env.config.service.primary_desired_count,
            env.config.service.secondary_desired_count,
        ),
        topic_arn: arn("sns", &region, &here.name(&ALERT_TOPIC, None)),
        bus: here.name(&EVENT_BUS, None),
        source: format!("{}.runbook", env.config.app),
    };
    let sub = |s: &str| Expr::sub(s.to_string());
    let alarms: Vec<Expr> = [outside_in_alarm, &lag_alarm, &switch_alarm]
        .iter()
        .map(|a| sub(&arn("cloudwatch", &region, &format!("alarm:{a}"))))
        .collect();
    let statements = vec![
        Statement::allow(["cloudwatch:DescribeAlarms"], alarms),
        // PutMetricData has no resource-level permissions; the namespace condition limits it.
        Statement::allow(["cloudwatch:PutMetricData"], [Expr::from("*")]).condition(
            "StringEquals",
            "cloudwatch:namespace",
            dns::SWITCH_NAMESPACE,
        ),
        Statement::allow(
            [
                "rds:DescribeGlobalClusters",
                "rds:FailoverGlobalCluster",
                "rds:SwitchoverGlobalCluster",
            ],
            [
                sub(&format!(
                    "arn:${{AWS::Partition}}:rds::${{AWS::AccountId}}:global-cluster:{global}"
                )),
                sub(&inputs.recovery_cluster_arn),
                sub(&inputs.primary_cluster_arn),
            ],
        ),
        Statement::allow(
            ["ssm:PutParameter"],
            [
                &inputs.active_region_parameter,
                &inputs.failover_flag_parameter,
            ]
            .map(|name| sub(&arn("ssm", &region, &format!("parameter{name}")))),
        ),
        Statement::allow(
            ["ecs:DescribeServices", "ecs:UpdateService"],
            [sub(&arn(
                "ecs",
                &region,
                &format!("service/{}/{}", inputs.ecs.0, inputs.ecs.1),
            ))],
        ),
        Statement::allow(["sns:Publish"], [sub(&inputs.topic_arn)]),
        Statement::allow(["kms:Decrypt", "kms:GenerateDataKey"], [base.key.arn()]),
        Statement::allow(
            ["events:PutEvents"],
            [sub(&arn(
                "events",
                &region,
                &format!("event-bus/{}", inputs.bus),
            ))],
        ),
    ];
    let (f, _) = runbook::build(&runbook::RunbookProps {
        namer: here,
        inputs,
        key_arn: base.key.arn(),
        log_retention_days: env.config.network.flow_log_retention_days,
        trigger_alarm: trigger_alarm.to_string(),
        statements,
    })?;
    Ok(f)
}
