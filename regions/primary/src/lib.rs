//! The primary region's stack (us-east-1 by default), as a bill of materials: each component
//! its Cargo feature enables, wired through typed handles.
//!
//! The primary is deployed twice per rollout: first on its own (phase `primary`), then again
//! with the secondary's outputs as parameters (phase `primary-link`), which adds what needs the
//! secondary to exist: the routes through the peering connection, replication of the buckets
//! to the secondary's, the sessions table's replica there and the database credentials' replica,
//! all encrypted with the secondary's key.

use cfn::{Error, Expr, Fragment, LogicalId, Parameter, Template};
use environment::{Environment, RegionRole};

/// Names of the parameters the deploy manifest feeds and of the outputs it reads.
pub mod wiring {
    /// Parameter: the peering connection the secondary requested (primary-link phase).
    pub const PEERING_CONNECTION_ID: &str = "PeeringConnectionId";
    /// Parameter: the secondary region's key (primary-link phase).
    pub const SECONDARY_KEY_ARN: &str = "SecondaryKeyArn";
    /// Output: the primary VPC, which the secondary peers with.
    pub const VPC_ID: &str = "VpcId";
    /// Parameter: the secondary load balancer's DNS name (primary-link phase).
    pub const SECONDARY_LB_DNS: &str = "SecondaryLoadBalancerDnsName";
    /// Parameter: the secondary load balancer's hosted zone (primary-link phase).
    pub const SECONDARY_LB_ZONE: &str = "SecondaryLoadBalancerHostedZoneId";
    /// Output: the public hosted zone, where the secondary validates its certificate.
    pub const HOSTED_ZONE_ID: &str = "HostedZoneId";
    /// Output: the Aurora global cluster, which the secondary cluster joins.
    pub const GLOBAL_CLUSTER_ID: &str = "AuroraGlobalClusterIdentifier";
}

const ROLE: RegionRole = RegionRole::Primary;

/// Builds the primary region's template for `env`.
#[allow(unused_variables, unused_mut, clippy::vec_init_then_push)]
pub fn stack(env: &Environment) -> Result<Template, Error> {
    let mut body = Fragment::new();
    let users = foundation::KeyUsers {
        storage: cfg!(feature = "storage"),
        sessions: cfg!(feature = "sessions"),
        aurora: cfg!(feature = "aurora"),
        backup: cfg!(feature = "backup"),
        events: cfg!(feature = "events"),
    };
    let base = foundation::build(env, ROLE, users, &mut body)?;

    // What the primary-link phase brings: the secondary's key, once the secondary exists.
    let secondary_key = if cfg!(any(
        feature = "storage",
        feature = "sessions",
        feature = "aurora"
    )) {
        let arn = body.parameter(
            LogicalId::new(wiring::SECONDARY_KEY_ARN)?,
            Parameter::string(
                "The secondary region's key, from the secondary stack's outputs; empty until the primary-link phase",
            )
            .default_value("")
            .pattern("^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]+)?$"),
        )?;
        let linked = body.condition(
            LogicalId::new("SecondaryLinked")?,
            !Expr::equals(arn.clone(), ""),
        )?;
        Some((arn, linked))
    } else {
        None
    };

    #[cfg(feature = "peering")]
    {
        let connection_id = body.parameter(
            LogicalId::new(wiring::PEERING_CONNECTION_ID)?,
            Parameter::string(
                "Peering connection requested by the secondary stack; empty until the primary-link phase",
            )
            .default_value("")
            .pattern("^(pcx-[0-9a-f]+)?$"),
        )?;
        let linked = body.condition(
            LogicalId::new("PeeringLinked")?,
            !Expr::equals(connection_id.clone(), ""),
        )?;
        body.merge(peering::accepter_routes(&peering::AccepterRoutesProps {
            connection_id,
            condition: linked,
            peer_cidr: env.vpc_cidr(RegionRole::Secondary),
            route_tables: base.network.internal_route_table_refs(),
        })?)?;
    }

    #[cfg(feature = "storage")]
    let buckets = {
        let (arn, linked) = secondary_key.clone().expect("storage declares the link");
        let (f, buckets) = storage::build(&storage::StorageProps {
            noncurrent_version_days: env.config.storage.noncurrent_version_days,
            replication: Some(storage::ReplicationProps {
                condition: linked,
                destination: env.namer(RegionRole::Secondary),
                replica_key_arn: arn,
                minutes: 15,
            }),
            ..storage::StorageProps::new(env.namer(ROLE), &base.key)
        })?;
        body.merge(f)?;
        buckets
    };

    #[cfg(feature = "sessions")]
    let sessions = {
        let (arn, linked) = secondary_key.clone().expect("sessions declares the link");
        let (f, table) = sessions::build(&sessions::SessionsProps {
            ttl_attribute: env.config.sessions.ttl_attribute.clone(),
            replica: Some(sessions::ReplicaProps {
                condition: linked,
                region: env.region(RegionRole::Secondary).name.clone(),
                key_arn: arn,
                tags: env.tags(RegionRole::Secondary),
            }),
            ..sessions::SessionsProps::new(env.namer(ROLE), base.key.arn(), env.tags(ROLE))
        })?;
        body.merge(f)?;
        table
    };

    #[cfg(feature = "aurora")]
    let database = {
        let a = &env.config.aurora;
        let (arn, linked) = secondary_key.clone().expect("aurora declares the link");
        let role = aurora::Role::Primary {
            managed_rpo_seconds: (a.managed_rpo_seconds > 0).then_some(a.managed_rpo_seconds),
            readers: a.primary_readers,
            database_name: a.database_name.clone(),
            master_username: a.master_username.clone(),
            secret_replica: Some(aurora::SecretReplica {
                condition: linked,
                region: env.region(RegionRole::Secondary).name.clone(),
                key_arn: arn,
            }),
        };
        let (f, database) = aurora::build(&aurora::AuroraProps {
            engine_version: a.engine_version.clone(),
            min_capacity: a.min_capacity_acu,
            max_capacity: a.max_capacity_acu,
            backup_retention_days: a.backup_retention_days,
            performance_insights_retention_days: a.performance_insights_retention_days,
            ..aurora::AuroraProps::new(env.namer(ROLE), role, &base.key, &base.network)
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
        #[cfg(feature = "sessions")]
        daily_resources.push(sessions.arn());
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
            #[cfg(feature = "aurora")]
            aurora_clusters: vec![database.cluster.attr_db_cluster_arn()],
            daily_resources,
            copy_to: secondary_key.as_ref().map(|(_, linked)| backup::CopyTo {
                vault_arn: backup::vault_arn(&env.namer(RegionRole::Secondary)),
                condition: Some(linked.clone()),
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
        body.merge(configuration::source_side(
            &replication,
            &env.region(RegionRole::Secondary).name,
        )?)?;
    }

    #[cfg(feature = "dns")]
    let zone = {
        let (f, zone) = dns::zone(&dns::ZoneProps {
            zone_name: foundation::zone_name(env),
            comment: format!("Trading DR, environment {}", env.suffix),
            parent_zone_id: env.config.dns.parent_zone_id.clone(),
        })?;
        body.merge(f)?;
        zone
    };

    #[cfg(feature = "service")]
    let (app, serving) = {
        let zone_name = foundation::zone_name(env);
        let (f, certificate) = dns::certificate("primary", &zone_name, zone.reference())?;
        body.merge(f)?;
        let mut task_statements = vec![parameters_read(env)];
        #[cfg(feature = "sessions")]
        task_statements.extend(sessions.grant_read_write());
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
            "primary",
            &zone_name,
            zone.reference(),
            app.dns_name(),
            app.hosted_zone_id(),
        )?)?;
        let secondary_dns = body.parameter(
            LogicalId::new(wiring::SECONDARY_LB_DNS)?,
            Parameter::string(
                "The secondary load balancer, from the secondary stack's outputs; empty until the primary-link phase",
            )
            .default_value(""),
        )?;
        let secondary_zone = body.parameter(
            LogicalId::new(wiring::SECONDARY_LB_ZONE)?,
            Parameter::string(
                "The secondary load balancer's hosted zone; empty until the primary-link phase",
            )
            .default_value(""),
        )?;
        let serving = body.condition(
            LogicalId::new("SecondaryServing")?,
            !Expr::equals(secondary_dns.clone(), ""),
        )?;
        let link = serving.clone();
        let d = &env.config.dns;
        body.merge(dns::failover(&dns::FailoverProps {
            namer: env.namer(ROLE),
            zone_name,
            zone_id: zone.reference(),
            primary_target: (app.dns_name(), app.hosted_zone_id()),
            health_path: env.config.service.health_path.clone(),
            checking: dns::Checking {
                interval_seconds: d.health_check_interval_seconds,
                failure_threshold: d.health_check_failure_threshold,
            },
            secondary: dns::SecondaryTarget {
                condition: link,
                target: (secondary_dns, secondary_zone),
                region: env.region(RegionRole::Secondary).name.clone(),
                switch_alarm: env
                    .namer(RegionRole::Secondary)
                    .name(&cfn::naming::SWITCH_ALARM, None),
            },
        })?)?;
        (app, serving)
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
            url("primary"),
        )?;
        body.merge(f)?;
    }

    // The global endpoint needs the secondary's bus and the primary's serving health check.
    #[cfg(all(feature = "events", feature = "service"))]
    body.merge(events::endpoint(&events::EndpointProps {
        namer: env.namer(ROLE),
        condition: serving.clone(),
        primary_bus: bus.arn(),
        secondary_bus: events::bus_arn(&env.namer(RegionRole::Secondary)),
        secondary_region: env.region(RegionRole::Secondary).name.clone(),
        // The same health as the PRIMARY record's: events follow traffic, including when the
        // runbook flips the switch.
        health_check_id: Expr::reference(&LogicalId::new(dns::SERVING_HEALTH_CHECK)?),
    })?)?;

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
        [Expr::sub(path.clone()), Expr::sub(format!("{path}/*"))],
    )
}
