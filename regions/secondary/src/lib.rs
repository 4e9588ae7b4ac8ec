//! The secondary (recovery) region's stack (us-east-2 by default), as a bill of materials: each
//! component its Cargo feature enables, wired through typed handles.
//!
//! It is deployed after the primary and takes the primary's outputs as parameters: the primary
//! VPC id, which the peering connection requests. Its buckets receive the primary's replicas.

use cfn::{Error, Template};
use environment::{Environment, RegionRole};
use foundation::Region;

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
pub fn stack(env: &Environment) -> Result<Template, Error> {
    let mut r = Region::new(env, ROLE)?;
    #[cfg(feature = "peering")]
    peering_request(&mut r)?;
    #[cfg(feature = "sessions")]
    r.sessions_replica();
    #[cfg(feature = "storage")]
    r.storage(None)?;
    #[cfg(feature = "aurora")]
    {
        let role = aurora_role(&mut r)?;
        r.aurora(role)?;
    }
    #[cfg(feature = "events")]
    r.events()?;
    #[cfg(feature = "backup")]
    r.backup(
        false,
        Some(backup::CopyTo {
            vault_arn: backup::vault_arn(&env.namer(RegionRole::Primary)),
            condition: None,
        }),
    )?;
    #[cfg(feature = "configuration")]
    {
        let replication = r.configuration()?;
        r.configuration_target(&replication)?;
    }
    #[cfg(feature = "service")]
    serve(&mut r)?;
    #[cfg(feature = "canaries")]
    watch(&mut r)?;
    r.finish()
}

/// Requests the peering connection to the primary's VPC (a parameter from the primary stack).
#[cfg(feature = "peering")]
fn peering_request(r: &mut Region) -> Result<(), Error> {
    use cfn::{LogicalId, Parameter};
    let primary_vpc = r.body.parameter(
        LogicalId::new(wiring::PRIMARY_VPC_ID)?,
        Parameter::string("The primary region's VPC, from the primary stack's outputs")
            .pattern("^vpc-[0-9a-f]+$"),
    )?;
    let (f, _) = peering::requester(&peering::RequesterProps {
        namer: r.namer(),
        vpc_id: r.base.network.vpc_id(),
        peer_vpc_id: primary_vpc,
        peer_region: r.env.region(RegionRole::Primary).name.clone(),
        peer_cidr: r.env.vpc_cidr(RegionRole::Primary),
        route_tables: r.base.network.internal_route_table_refs(),
    })?;
    r.merge(f)
}

/// The secondary's part in the global database: it joins the primary's global cluster (a
/// parameter from the primary stack) and reads until a failover promotes it.
#[cfg(feature = "aurora")]
fn aurora_role(r: &mut Region) -> Result<aurora::Role, Error> {
    use cfn::{LogicalId, Parameter};
    let global_cluster_id = r.body.parameter(
        LogicalId::new(wiring::GLOBAL_CLUSTER_ID)?,
        Parameter::string("The Aurora global cluster, from the primary stack's outputs")
            .pattern("^[a-zA-Z][a-zA-Z0-9-]{0,62}$"),
    )?;
    Ok(aurora::Role::Secondary { global_cluster_id })
}

/// The warm application behind its certificate in the primary's zone (a parameter from the
/// primary stack), its regional record, and the traffic switch's alarm.
#[cfg(feature = "service")]
fn serve(r: &mut Region) -> Result<(), Error> {
    use cfn::{LogicalId, Parameter};
    let zone_name = foundation::zone_name(r.env);
    let zone_id = r.body.parameter(
        LogicalId::new(wiring::HOSTED_ZONE_ID)?,
        Parameter::string("The public hosted zone, from the primary stack's outputs")
            .pattern("^Z[A-Z0-9]+$"),
    )?;
    let (f, certificate) = dns::certificate("secondary", &zone_name, zone_id.clone())?;
    r.merge(f)?;
    let app = r.service(certificate.reference())?;
    r.merge(dns::regional_record(
        "secondary",
        &zone_name,
        zone_id,
        app.dns_name(),
        app.hosted_zone_id(),
    )?)?;
    let (f, _) = dns::switch_alarm(&r.namer())?;
    r.merge(f)
}

/// The canaries (this region's, and the primary seen from here), the composite alarm that
/// says the primary failed, and the runbooks it starts.
#[cfg(feature = "canaries")]
fn watch(r: &mut Region) -> Result<(), Error> {
    let watch = r.watch()?;
    r.canary(&watch, "Canary", &cfn::naming::CANARY, "secondary")?;
    // The primary seen from outside it, from the recovery region.
    let outside_in = r.canary(
        &watch,
        "OutsideInCanary",
        &cfn::naming::CANARY_OUTSIDE_IN,
        "primary",
    )?;
    r.replication_alarms(&watch)?;
    #[cfg(feature = "aurora")]
    {
        // The cluster by Ref and its instances: the lag alarm (missing data is a breach) is
        // made once what publishes the lag exists.
        let (cluster, instances) = r.database.clone().unwrap_or_else(|| {
            (
                cfn::Expr::from(r.namer().name(&cfn::naming::DB_CLUSTER, None)),
                Vec::new(),
            )
        });
        let lag_threshold_ms = r.env.config.monitoring.replication_lag_threshold_ms;
        let (primary_failure, composite) = canaries::primary_failure_alarm(
            &mut r.body,
            &watch.props,
            &watch.monitoring,
            &outside_in,
            cluster,
            &instances,
            lag_threshold_ms,
        )?;
        #[cfg(feature = "runbook")]
        runbooks(
            r,
            &outside_in.name,
            &primary_failure,
            composite,
            watch.monitoring.topic.reference(),
        )?;
    }
    Ok(())
}

/// The failover and failback runbooks, with exactly the permissions their steps need.
#[cfg(feature = "runbook")]
fn runbooks(
    r: &mut Region,
    outside_in_alarm: &str,
    trigger_alarm: &str,
    trigger_after: cfn::LogicalId,
    topic: cfn::Expr,
) -> Result<(), Error> {
    let env = r.env;
    use cfn::arn::Arn;
    use cfn::naming::{
        ALERT_TOPIC, CANARY_ALARM, DB_CLUSTER, ECS_CLUSTER, ECS_SERVICE, EVENT_BUS, GLOBAL_CLUSTER,
        RUNBOOK_LOCK, SWITCH_ALARM,
    };
    let here = env.namer(ROLE);
    let primary = env.namer(RegionRole::Primary);
    let region = here.region().to_string();
    let arn = |service: &str, region: &str, resource: String| {
        Arn::new(service, resource).in_region(region).to_sub()
    };
    let paths = env.parameter_paths();
    let lag_alarm = here.name(&CANARY_ALARM, Some("replication-lag"));
    let switch_alarm = here.name(&SWITCH_ALARM, None);
    let global = primary.name(&GLOBAL_CLUSTER, None);
    let inputs = runbook::Inputs {
        lock_table: here.name(&RUNBOOK_LOCK, None),
        global_cluster: global.clone(),
        recovery_cluster_arn: arn(
            "rds",
            &region,
            format!("cluster:{}", here.name(&DB_CLUSTER, None)),
        ),
        primary_cluster_arn: arn(
            "rds",
            primary.region(),
            format!("cluster:{}", primary.name(&DB_CLUSTER, None)),
        ),
        outage_alarms: [outside_in_alarm.to_string(), lag_alarm.clone()],
        switch_alarm: switch_alarm.clone(),
        switch_metric: (
            dns::SWITCH_NAMESPACE.to_string(),
            dns::SWITCH_METRIC.to_string(),
            env.suffix.to_string(),
        ),
        active_region_parameter: paths.active_region(),
        failover_flag_parameter: paths.flag(cfn::naming::FAILOVER_FLAG),
        regions: (primary.region().to_string(), region.clone()),
        ecs: (here.name(&ECS_CLUSTER, None), here.name(&ECS_SERVICE, None)),
        counts: (
            env.config.service.primary_desired_count,
            env.config.service.secondary_desired_count,
        ),
        topic_arn: arn("sns", &region, here.name(&ALERT_TOPIC, None)),
        bus: here.name(&EVENT_BUS, None),
        source: format!("{}.runbook", env.config.app),
    };
    let (f, _) = runbook::build(&runbook::RunbookProps {
        namer: here,
        inputs,
        key_arn: r.base.key.arn(),
        log_retention_days: env.config.network.flow_log_retention_days,
        trigger_alarm: trigger_alarm.to_string(),
        trigger_after: vec![trigger_after],
        topic,
    })?;
    r.merge(f)
}
