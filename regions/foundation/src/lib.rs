//! What both region stacks build alike: the region's customer-managed key and its network,
//! configured from the environment, and the finishing of a template (description, standard
//! tags, reference checks). The region crates enable the parts they use through features.

use cfn::{Error, Fragment, Template};
use environment::{Environment, RegionRole};

/// The handles of the foundation, for the components built on it.
pub struct Foundation {
    /// The region's key.
    #[cfg(feature = "keys")]
    pub key: keys::RegionKey,
    /// The region's network.
    #[cfg(feature = "network")]
    pub network: network::Network,
}

/// Which components of a region stack use its key: the region crate says which it builds
/// (its Cargo features), and this one mapping says what each needs of the key.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyUsers {
    /// Buckets (through S3).
    pub storage: bool,
    /// The sessions table or its replica (through DynamoDB).
    pub sessions: bool,
    /// Aurora and its credentials (through RDS and Secrets Manager).
    pub aurora: bool,
    /// Backup vaults (through AWS Backup).
    pub backup: bool,
    /// Event buses (EventBridge uses the key itself).
    pub events: bool,
}

impl KeyUsers {
    /// The services through which the stack's resources use the key (`kms:ViaService`).
    pub fn via_services(&self) -> Vec<String> {
        [
            (self.storage, "s3"),
            (self.sessions, "dynamodb"),
            (self.aurora, "rds"),
            (self.aurora, "secretsmanager"),
            (self.backup, "backup"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, service)| service.to_string())
        .collect()
    }

    /// The services that use the key themselves, as principals.
    pub fn service_principals(&self) -> Vec<String> {
        [(self.events, "events.amazonaws.com")]
            .into_iter()
            .filter(|(on, _)| *on)
            .map(|(_, principal)| principal.to_string())
            .collect()
    }
}

/// Builds the key and the network of the region serving `role` into `body`; `users` says which
/// of the stack's components use the key.
#[allow(unused_variables)]
pub fn build(
    env: &Environment,
    role: RegionRole,
    users: KeyUsers,
    body: &mut Fragment,
) -> Result<Foundation, Error> {
    let namer = env.namer(role);

    #[cfg(feature = "keys")]
    let key = {
        let (f, key) = keys::build(&keys::KeysProps {
            namer: namer.clone(),
            pending_window_days: env.config.keys.pending_window_days,
            via_services: users.via_services(),
            cloudwatch_logs: cfg!(feature = "network"),
            service_principals: users.service_principals(),
        })?;
        body.merge(f)?;
        key
    };

    #[cfg(feature = "network")]
    let network = {
        let (f, net) = network::build(&network::NetworkProps {
            nat: match env.config.network.nat_gateways {
                environment::NatGateways::PerAz => network::NatPolicy::PerAz,
                environment::NatGateways::Single => network::NatPolicy::Single,
            },
            flow_log_retention_days: env.config.network.flow_log_retention_days,
            ..network::NetworkProps::new(
                namer.clone(),
                env.vpc_cidr(role),
                env.availability_zones(role),
                &key,
            )
        })?;
        body.merge(f)?;
        net
    };

    Ok(Foundation {
        #[cfg(feature = "keys")]
        key,
        #[cfg(feature = "network")]
        network,
    })
}

/// What the service of either region needs from its stack.
#[cfg(feature = "service")]
pub struct ServiceInputs {
    /// The database host the application writes to (this region's cluster endpoint).
    pub db_host: Option<cfn::Expr>,
    /// The HTTPS listener's certificate.
    pub certificate_arn: cfn::Expr,
    /// What the task role may do (grants from the data tier).
    pub task_statements: Vec<cfn::iam::Statement>,
}

/// Builds the application service of the region serving `role` into `body`. Both regions go
/// through here, so their task definitions are made from the same inputs; only region-specific
/// references (roles, log group, endpoints) differ.
#[cfg(feature = "service")]
pub fn service(
    env: &Environment,
    role: RegionRole,
    base: &Foundation,
    inputs: ServiceInputs,
    body: &mut Fragment,
) -> Result<service::Service, Error> {
    use cfn::Expr;
    use cfn::iam::Statement;
    let s = &env.config.service;
    let prefix = format!("/{}/{}", env.config.app, env.suffix);
    let secret_name = env.namer(role).name(&cfn::naming::DB_SECRET, None);
    let secret = |field: &str| {
        Expr::sub(format!(
            "arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:{secret_name}:{field}::"
        ))
    };
    let active_region = Expr::sub(format!(
        "arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{prefix}/shared/active-region"
    ));
    let mut environment = vec![
        (
            "APP_ENVIRONMENT".to_string(),
            Expr::from(env.suffix.as_str()),
        ),
        ("CONFIG_PREFIX".to_string(), Expr::from(prefix.as_str())),
        (
            "SESSIONS_TABLE".to_string(),
            Expr::from(env.namer(role).name(&cfn::naming::SESSIONS_TABLE, None)),
        ),
        (
            "DATA_BUCKET".to_string(),
            env.namer(role).expr(&cfn::naming::DATA_BUCKET, None),
        ),
        (
            "DB_NAME".to_string(),
            Expr::from(env.config.aurora.database_name.as_str()),
        ),
    ];
    if let Some(host) = inputs.db_host {
        environment.push(("DB_HOST".to_string(), host));
    }
    let container = service::Container {
        image: s.image.clone(),
        cpu: s.cpu,
        memory: s.memory,
        port: s.port,
        health_path: s.health_path.clone(),
        environment,
        secrets: vec![
            ("DB_USERNAME".to_string(), secret("username")),
            ("DB_PASSWORD".to_string(), secret("password")),
            ("ACTIVE_REGION".to_string(), active_region.clone()),
        ],
    };
    let desired = match role {
        RegionRole::Primary => s.primary_desired_count,
        RegionRole::Secondary => s.secondary_desired_count,
    };
    let execution_statements = vec![
        Statement::allow(
            ["secretsmanager:GetSecretValue"],
            [Expr::sub(format!(
                "arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:{secret_name}-*"
            ))],
        ),
        Statement::allow(["ssm:GetParameters"], [active_region]),
        Statement::allow(["kms:Decrypt"], [base.key.arn()]),
    ];
    let (f, svc) = service::build(
        &service::ServiceProps {
            namer: env.namer(role),
            container,
            desired_count: desired,
            min_count: desired,
            max_count: s.max_count,
            cpu_target_percent: s.cpu_target_percent,
            requests_per_target: s.requests_per_target,
            certificate_arn: inputs.certificate_arn,
            tls_policy: s.tls_policy.clone(),
            key_arn: base.key.arn(),
            log_retention_days: env.config.network.flow_log_retention_days,
            task_statements: inputs.task_statements,
            execution_statements,
        },
        &base.network,
    )?;
    body.merge(f)?;
    Ok(svc)
}

/// What the region's parameters take from other components' handles; `None` where the region
/// crate does not build that component.
#[cfg(feature = "configuration")]
#[derive(Default)]
pub struct ConfigurationInputs {
    /// The region's Aurora (writer, reader) endpoints.
    pub database: Option<(cfn::Expr, cfn::Expr)>,
    /// Whether the region has the sessions table (its replica, in the secondary).
    pub sessions: bool,
    /// The application event bus's name.
    pub event_bus: Option<cfn::Expr>,
    /// The region's (data, configuration) buckets.
    pub buckets: Option<(cfn::Expr, cfn::Expr)>,
}

/// The region's SSM parameters (the same entries in both regions; values are this region's),
/// and the props of its side of their replication, which the region crate builds (source in
/// the primary, target in the secondary).
#[cfg(feature = "configuration")]
pub fn configuration(
    env: &Environment,
    role: RegionRole,
    base: &Foundation,
    inputs: ConfigurationInputs,
) -> Result<(Fragment, configuration::ReplicationProps), Error> {
    let namer = env.namer(role);
    let standard = configuration::Standard {
        active_region: env.region(RegionRole::Primary).name.clone(),
        flags: env.config.flags.clone(),
        db_writer_endpoint: inputs.database.as_ref().map(|d| d.0.clone()),
        db_reader_endpoint: inputs.database.as_ref().map(|d| d.1.clone()),
        db_secret_name: inputs
            .database
            .as_ref()
            .map(|_| namer.name(&cfn::naming::DB_SECRET, None)),
        sessions_table: inputs
            .sessions
            .then(|| namer.name(&cfn::naming::SESSIONS_TABLE, None)),
        event_bus: inputs.event_bus,
        data_bucket: inputs.buckets.as_ref().map(|b| b.0.clone()),
        config_bucket: inputs.buckets.as_ref().map(|b| b.1.clone()),
    };
    let prefix = configuration::prefix(&env.config.app, &env.suffix);
    let fragment = configuration::parameters(&configuration::ParametersProps {
        prefix: prefix.clone(),
        entries: standard.entries(),
    })?;
    let replication = configuration::ReplicationProps {
        namer,
        app: env.config.app.clone(),
        prefix,
        key_arn: base.key.arn(),
        log_retention_days: env.config.network.flow_log_retention_days,
    };
    Ok((fragment, replication))
}

/// The zone of the environment: `<suffix>.<parent_domain>`.
pub fn zone_name(env: &Environment) -> String {
    format!("{}.{}", env.suffix, env.config.dns.parent_domain)
}

/// Makes the template of the `role` stack from `body`: description, the standard tags on every
/// taggable resource, and a check that every reference resolves.
pub fn finish(env: &Environment, role: RegionRole, body: Fragment) -> Result<Template, Error> {
    let mut template = Template::new(
        format!(
            "Trading DR {} region ({}), environment {}: generated by cargo xtask synth",
            role.as_str(),
            env.region(role).name,
            env.suffix
        ),
        body,
    );
    template.apply_tags(&env.tags(role));
    template.validate()?;
    Ok(template)
}
