//! The primary region's stack (us-east-1 by default), as a bill of materials: each component
//! its Cargo feature enables, wired through typed handles.
//!
//! The primary is deployed twice per rollout: first on its own (phase `primary`), then again
//! with the secondary's outputs as parameters (phase `primary-link`), which adds what needs the
//! secondary to exist: the routes through the peering connection, replication of the buckets
//! to the secondary's, the sessions table's replica there and the database credentials' replica,
//! all encrypted with the secondary's key.

use cfn::{Error, Expr, LogicalId, Parameter, Template};
use environment::{Environment, RegionRole};
use foundation::Region;

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
pub fn stack(env: &Environment) -> Result<Template, Error> {
    let mut r = foundation::Region::new(env, ROLE)?;
    // What the primary-link phase brings, once the secondary exists: its key (for replicas),
    // the peering connection, its load balancer.
    let link = secondary_link(&mut r)?;

    #[cfg(feature = "peering")]
    peering_routes(&mut r)?;
    #[cfg(feature = "sessions")]
    r.sessions_table(Some(sessions::ReplicaProps {
        condition: link.linked.clone(),
        region: env.region(RegionRole::Secondary).name.clone(),
        key_arn: link.key_arn.clone(),
        tags: env.tags(RegionRole::Secondary),
    }))?;
    #[cfg(feature = "storage")]
    r.storage(Some(storage::ReplicationProps {
        condition: link.linked.clone(),
        destination: env.namer(RegionRole::Secondary),
        replica_key_arn: link.key_arn.clone(),
        minutes: 15,
    }))?;
    #[cfg(feature = "audit")]
    r.audit_trail()?;
    #[cfg(feature = "aurora")]
    r.aurora(aurora_role(env, &link))?;
    #[cfg(feature = "events")]
    r.events()?;
    #[cfg(feature = "backup")]
    r.backup(
        true,
        Some(backup::CopyTo {
            vault_arn: backup::vault_arn(&env.namer(RegionRole::Secondary)),
            condition: Some(link.linked.clone()),
        }),
    )?;
    #[cfg(feature = "configuration")]
    {
        let replication = r.configuration()?;
        r.configuration_source(&replication, &env.region(RegionRole::Secondary).name)?;
    }
    #[cfg(feature = "dns")]
    let zone = zone(&mut r)?;
    #[cfg(feature = "service")]
    let serving = traffic(&mut r, &zone)?;
    #[cfg(feature = "canaries")]
    {
        let watch = r.watch()?;
        r.canary(&watch, "Canary", &cfn::naming::CANARY, "primary")?;
        r.replication_alarms(&watch)?;
    }
    #[cfg(all(feature = "events", feature = "service"))]
    events_endpoint(&mut r, serving)?;
    r.finish()
}

/// What the primary-link phase brings once the secondary exists: the secondary's key, under
/// which replicas there are encrypted, and the condition that it was given.
struct Link {
    key_arn: Expr,
    linked: LogicalId,
}

fn secondary_link(r: &mut Region) -> Result<Link, Error> {
    let key_arn = r.body.parameter(
        LogicalId::new(wiring::SECONDARY_KEY_ARN)?,
        Parameter::string(
            "The secondary region's key, from the secondary stack's outputs; empty until the primary-link phase",
        )
        .default_value("")
        .pattern("^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]+)?$"),
    )?;
    let linked = r.body.condition(
        LogicalId::new("SecondaryLinked")?,
        !Expr::equals(key_arn.clone(), ""),
    )?;
    Ok(Link { key_arn, linked })
}

/// Routes to the secondary's VPC through the peering connection it requested (primary-link).
#[cfg(feature = "peering")]
fn peering_routes(r: &mut Region) -> Result<(), Error> {
    let connection_id = r.body.parameter(
        LogicalId::new(wiring::PEERING_CONNECTION_ID)?,
        Parameter::string(
            "Peering connection requested by the secondary stack; empty until the primary-link phase",
        )
        .default_value("")
        .pattern("^(pcx-[0-9a-f]+)?$"),
    )?;
    let linked = r.body.condition(
        LogicalId::new("PeeringLinked")?,
        !Expr::equals(connection_id.clone(), ""),
    )?;
    let routes = peering::accepter_routes(&peering::AccepterRoutesProps {
        connection_id,
        condition: linked,
        peer_cidr: r.env.vpc_cidr(RegionRole::Secondary),
        route_tables: r.base.network.internal_route_table_refs(),
    })?;
    r.merge(routes)
}

/// The primary's part in the global database: it writes, and its credentials are replicated
/// to the secondary once linked.
#[cfg(feature = "aurora")]
fn aurora_role(env: &Environment, link: &Link) -> aurora::Role {
    let a = &env.config.aurora;
    aurora::Role::Primary {
        managed_rpo_seconds: (a.managed_rpo_seconds > 0).then_some(a.managed_rpo_seconds),
        readers: a.primary_readers,
        database_name: a.database_name.clone(),
        master_username: a.master_username.clone(),
        secret_replica: Some(aurora::SecretReplica {
            condition: link.linked.clone(),
            region: env.region(RegionRole::Secondary).name.clone(),
            key_arn: link.key_arn.clone(),
        }),
    }
}

/// The environment's public zone, delegated from the parent zone when one is configured.
#[cfg(feature = "dns")]
fn zone(r: &mut Region) -> Result<cfn::Handle<cfn::aws::route53::HostedZone>, Error> {
    let env = r.env;
    let (f, zone) = dns::zone(&dns::ZoneProps {
        zone_name: foundation::zone_name(env),
        comment: format!("Trading DR, environment {}", env.suffix), // not a name: a comment
        parent_zone_id: env.config.dns.parent_zone_id.clone(),
    })?;
    r.merge(f)?;
    Ok(zone)
}

/// The application behind its certificate, and the failover records that send traffic here,
/// or to the secondary once linked; returns the condition that the secondary serves.
#[cfg(feature = "service")]
fn traffic(
    r: &mut Region,
    zone: &cfn::Handle<cfn::aws::route53::HostedZone>,
) -> Result<LogicalId, Error> {
    let env = r.env;
    let zone_name = foundation::zone_name(env);
    let (f, certificate) = dns::certificate("primary", &zone_name, zone.reference())?;
    r.merge(f)?;
    let app = r.service(certificate.reference())?;
    r.merge(dns::regional_record(
        "primary",
        &zone_name,
        zone.reference(),
        app.dns_name(),
        app.hosted_zone_id(),
    )?)?;
    let secondary_dns = r.body.parameter(
        LogicalId::new(wiring::SECONDARY_LB_DNS)?,
        Parameter::string(
            "The secondary load balancer, from the secondary stack's outputs; empty until the primary-link phase",
        )
        .default_value(""),
    )?;
    let secondary_zone = r.body.parameter(
        LogicalId::new(wiring::SECONDARY_LB_ZONE)?,
        Parameter::string(
            "The secondary load balancer's hosted zone; empty until the primary-link phase",
        )
        .default_value(""),
    )?;
    let serving = r.body.condition(
        LogicalId::new("SecondaryServing")?,
        !Expr::equals(secondary_dns.clone(), ""),
    )?;
    let d = &env.config.dns;
    r.merge(dns::failover(&dns::FailoverProps {
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
            condition: serving.clone(),
            target: (secondary_dns, secondary_zone),
            region: env.region(RegionRole::Secondary).name.clone(),
            switch_alarm: env
                .namer(RegionRole::Secondary)
                .name(&cfn::naming::SWITCH_ALARM, None),
        },
    })?)?;
    Ok(serving)
}

/// The EventBridge global endpoint: events go to this region's bus while the primary serves
/// (the same health check as the PRIMARY record, so events follow traffic, including when the
/// runbook flips the switch), else to the secondary's.
#[cfg(all(feature = "events", feature = "service"))]
fn events_endpoint(r: &mut Region, serving: LogicalId) -> Result<(), Error> {
    let primary_bus = r
        .bus
        .as_ref()
        .map(|b| b.arn())
        .expect("events adds the bus");
    let endpoint = events::endpoint(&events::EndpointProps {
        namer: r.namer(),
        condition: serving,
        primary_bus,
        secondary_bus: events::bus_arn(&r.other_namer()),
        secondary_region: r.env.region(RegionRole::Secondary).name.clone(),
        health_check_id: Expr::reference(&LogicalId::new(dns::SERVING_HEALTH_CHECK)?),
    })?;
    r.merge(endpoint)
}
