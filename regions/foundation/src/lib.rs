//! What both region stacks build alike, and the builder they are assembled with.
//!
//! [`Region`] is a stack being assembled: it starts with the region's key and network, holds
//! the handles of every component added, maps the environment onto each component's props the
//! same way for both regions, and wires later components to earlier ones (grants, backup
//! selections, parameters). A region crate calls one method per component with only its
//! region-specific choices, so it reads as a bill of materials. Each method exists when this
//! crate's feature of the same name is on; the region crates turn those on with their own.

use cfn::{Error, Expr, Fragment, Template};
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

/// The database user the application signs in as, with IAM authentication (created once by
/// the application's migrations: `CREATE USER app; GRANT rds_iam TO app;`).
pub const APP_DB_USER: &str = "app";

/// A region stack being assembled; see the crate's documentation.
pub struct Region<'e> {
    /// The environment.
    pub env: &'e Environment,
    /// Which region this stack serves.
    pub role: RegionRole,
    /// The template body so far; region-specific resources are merged here.
    pub body: Fragment,
    /// The region's key and network.
    pub base: Foundation,
    /// Which components use the key, recorded as they are added.
    users: KeyUsers,
    /// What the application may do: each data component's grant, in the order they are added.
    grants: Vec<cfn::iam::Statement>,
    /// What the daily backup plan selects.
    daily_backups: Vec<Expr>,
    /// The Aurora cluster's ARN and writer endpoint.
    database_arn: Option<Expr>,
    /// The Aurora cluster (its `Ref`, the identifier) and its instances, for what watches it.
    pub database: Option<(Expr, Vec<cfn::LogicalId>)>,
    db_host: Option<Expr>,
    /// What the SSM parameters publish of the components.
    parameters: ConfigurationInputs,
    /// The application event bus (the primary's global endpoint routes to it).
    #[cfg(feature = "events")]
    pub bus: Option<events::Bus>,
    /// The alarm of every replication path added so far, made by `replication_alarms`.
    #[cfg(feature = "canaries")]
    paths: Vec<canaries::PathAlarm>,
    /// The Aurora cluster as a restore test lands it (the primary's).
    #[cfg(feature = "backup")]
    restore_target: Option<backup::AuroraRestore>,
    /// The tables restore tests restore.
    restore_tables: Vec<Expr>,
    /// The audit bucket (its name), when the environment has its own trail.
    audit_bucket: Option<Expr>,
    /// The vault whose recovery points are copied to the other region (their failures alert).
    copies_from: Option<Expr>,
    /// The rotated credentials secret's name (its failed rotations alert).
    rotated_secret: Option<String>,
}

/// The region's alert topic and canary plumbing, for its canaries and alarms.
#[cfg(feature = "canaries")]
pub struct Watch {
    /// The props every canary and alarm of the region is made with.
    pub props: canaries::MonitoringProps,
    /// The topic, the artifacts bucket and the canaries' role.
    pub monitoring: canaries::Monitoring,
}

impl<'e> Region<'e> {
    /// Starts the stack of the region serving `role` with its key and network.
    #[cfg(feature = "network")]
    pub fn new(env: &'e Environment, role: RegionRole) -> Result<Self, Error> {
        // The key's policy depends on the components added, known in `finish`, where the key
        // is made; its handle (the same logical id either way) is needed now.
        let (_, key) = key(env, role, KeyUsers::default())?;
        let (f, network) = network(env, role, &key)?;
        let mut body = Fragment::new();
        body.merge(f)?;
        Ok(Region {
            env,
            role,
            body,
            base: Foundation { key, network },
            users: KeyUsers::default(),
            grants: vec![parameters_read(env)],
            daily_backups: Vec::new(),
            database_arn: None,
            database: None,
            db_host: None,
            parameters: ConfigurationInputs::default(),
            #[cfg(feature = "events")]
            bus: None,
            #[cfg(feature = "canaries")]
            paths: Vec::new(),
            copies_from: None,
            rotated_secret: None,
            audit_bucket: None,
            #[cfg(feature = "backup")]
            restore_target: None,
            restore_tables: Vec::new(),
        })
    }

    /// The namer of this region.
    pub fn namer(&self) -> cfn::naming::Namer {
        self.env.namer(self.role)
    }

    /// The namer of the other region.
    pub fn other_namer(&self) -> cfn::naming::Namer {
        self.env.namer(self.role.other())
    }

    /// Merges a region-specific fragment.
    pub fn merge(&mut self, fragment: Fragment) -> Result<(), Error> {
        self.body.merge(fragment)
    }

    /// The data and configuration buckets, replicated to the other region when `replication`
    /// says so.
    #[cfg(feature = "storage")]
    pub fn storage(&mut self, replication: Option<storage::ReplicationProps>) -> Result<(), Error> {
        let audit = &self.env.config.audit;
        let (f, buckets) = storage::build(&storage::StorageProps {
            audit: (!audit.organization_trail).then(|| storage::AuditBucket {
                retention_days: audit.retention_days,
                trail_arn: self.trail_arn(),
            }),
            noncurrent_version_days: self.env.config.storage.noncurrent_version_days,
            access_log_retention_days: self.env.config.storage.access_log_retention_days,
            replication,
            ..storage::StorageProps::new(self.namer(), &self.base.key)
        })?;
        self.body.merge(f)?;
        #[cfg(feature = "canaries")]
        for r in &buckets.replicated {
            let dimensions = vec![
                ("SourceBucket".to_string(), r.source.clone()),
                ("DestinationBucket".to_string(), r.destination.clone()),
                ("RuleId".to_string(), Expr::from(r.rule_id)),
            ];
            let stem = r.stem;
            let upper = canaries::capitalise(stem);
            self.paths.push(canaries::PathAlarm {
                logical: format!("{upper}ReplicationFailedAlarm"),
                qualifier: format!("s3-{stem}-failed"),
                description: format!(
                    "Objects of the {stem} bucket failed to replicate to {}",
                    r.to_region
                ),
                namespace: "AWS/S3".into(),
                metric: "OperationsFailedReplication".into(),
                dimensions: dimensions.clone(),
                statistic: "Sum".into(),
                threshold: 0.0,
                periods: 1,
                condition: Some(r.condition.clone()),
            });
            self.paths.push(canaries::PathAlarm {
                logical: format!("{upper}ReplicationLatencyAlarm"),
                qualifier: format!("s3-{stem}-latency"),
                description: format!(
                    "Replication of the {stem} bucket to {} is slower than Replication Time Control's {} min",
                    r.to_region, r.minutes
                ),
                namespace: "AWS/S3".into(),
                metric: "ReplicationLatency".into(),
                dimensions,
                statistic: "Maximum".into(),
                threshold: f64::from(r.minutes * 60),
                periods: 5,
                condition: Some(r.condition.clone()),
            });
        }
        self.users.storage = true;
        self.grants.extend(buckets.grant_data_read_write());
        self.daily_backups.push(buckets.config.attr_arn());
        self.parameters.buckets = Some((buckets.data.reference(), buckets.config.reference()));
        self.audit_bucket = buckets.audit.as_ref().map(|b| b.reference());
        Ok(())
    }

    /// The ARN of the trail this region's audit bucket receives from, when the region has the
    /// trail (the primary, with the `audit` feature).
    #[cfg(feature = "storage")]
    fn trail_arn(&self) -> Option<Expr> {
        #[cfg(feature = "audit")]
        if self.role == RegionRole::Primary {
            return Some(audit::trail_arn(&self.namer()));
        }
        None
    }

    /// The environment's multi-region trail into the audit bucket, or nothing when the
    /// organisation's trail records the account (`audit.organization_trail`).
    #[cfg(feature = "audit")]
    pub fn audit_trail(&mut self) -> Result<(), Error> {
        let Some(bucket) = self.audit_bucket.clone() else {
            return Ok(());
        };
        self.body.merge(audit::trail(&audit::TrailProps::new(
            self.namer(),
            bucket,
            self.base.key.arn(),
        ))?)?;
        self.users.trail = true;
        Ok(())
    }

    /// The sessions table (a global table), with a replica in the other region when
    /// `replica` says so.
    #[cfg(feature = "sessions")]
    pub fn sessions_table(&mut self, replica: Option<sessions::ReplicaProps>) -> Result<(), Error> {
        #[cfg(feature = "canaries")]
        if let Some(r) = &replica {
            self.watch_sessions(&r.region, Some(r.condition.clone()));
        }
        let (f, table) = sessions::build(&sessions::SessionsProps {
            ttl_attribute: self.env.config.sessions.ttl_attribute.clone(),
            replica,
            ..sessions::SessionsProps::new(
                self.namer(),
                self.base.key.arn(),
                self.env.tags(self.role),
            )
        })?;
        self.body.merge(f)?;
        self.add_sessions(table.arn());
        Ok(())
    }

    /// The replica of the sessions table that the other region's global table makes here,
    /// with this region's key: nothing to create, but grants and backups to give.
    #[cfg(feature = "sessions")]
    pub fn sessions_replica(&mut self) {
        #[cfg(feature = "canaries")]
        {
            let other = self.env.region(self.role.other()).name.clone();
            self.watch_sessions(&other, None);
        }
        self.add_sessions(sessions::replica_arn(&self.namer()));
    }

    /// The alarm on the sessions table's replication from here to `receiving`.
    #[cfg(all(feature = "sessions", feature = "canaries"))]
    fn watch_sessions(&mut self, receiving: &str, condition: Option<cfn::LogicalId>) {
        let threshold_ms = self.env.config.monitoring.replication_lag_threshold_ms;
        self.paths.push(canaries::PathAlarm {
            logical: "SessionsReplicationLatencyAlarm".into(),
            qualifier: "sessions-latency".into(),
            description: format!(
                "The sessions table's writes here reach {receiving} more than {threshold_ms} ms late"
            ),
            namespace: "AWS/DynamoDB".into(),
            metric: "ReplicationLatency".into(),
            dimensions: vec![
                (
                    "TableName".into(),
                    Expr::from(self.namer().name(&cfn::naming::SESSIONS_TABLE, None)),
                ),
                ("ReceivingRegion".into(), Expr::from(receiving)),
            ],
            statistic: "Maximum".into(),
            threshold: f64::from(threshold_ms),
            periods: 5,
            condition,
        });
    }

    #[cfg(feature = "sessions")]
    fn add_sessions(&mut self, arn: Expr) {
        self.users.sessions = true;
        self.grants
            .extend(sessions::table_grants(arn.clone(), self.base.key.arn()));
        self.daily_backups.push(arn.clone());
        self.restore_tables.push(arn);
        self.parameters.sessions = true;
    }

    /// The Aurora cluster of this region, in the part `role` gives it.
    #[cfg(feature = "aurora")]
    pub fn aurora(&mut self, role: aurora::Role) -> Result<(), Error> {
        let a = &self.env.config.aurora;
        let (f, database) = aurora::build(
            &aurora::AuroraProps {
                engine_version: a.engine_version.clone(),
                min_capacity: a.min_capacity_acu,
                max_capacity: a.max_capacity_acu,
                secondary_instances: a.secondary_instances,
                backup_retention_days: a.backup_retention_days,
                performance_insights_retention_days: a.performance_insights_retention_days,
                monitoring_interval_seconds: a.monitoring_interval_seconds,
                ..aurora::AuroraProps::new(self.namer(), role, &self.base.key, &self.base.network)
            }
            .rotating_every(a.rotation_days),
        )?;
        self.body.merge(f)?;
        self.users.aurora = true;
        self.grants.extend(database.grant_connect(APP_DB_USER));
        self.database_arn = Some(database.cluster.attr_db_cluster_arn());
        self.database = Some((
            database.cluster.reference(),
            database.instances.iter().map(|i| i.id().clone()).collect(),
        ));
        self.rotated_secret = database
            .secret
            .as_ref()
            .map(|_| self.namer().name(&cfn::naming::DB_SECRET, None));
        #[cfg(feature = "backup")]
        {
            self.restore_target = Some(backup::AuroraRestore {
                cluster_arn: database.cluster.attr_db_cluster_arn(),
                subnet_group: database.subnet_group.reference(),
                security_group: database.security_group.attr_group_id(),
            });
        }
        self.db_host = Some(database.writer_endpoint());
        self.parameters.database = Some((database.writer_endpoint(), database.reader_endpoint()));
        Ok(())
    }

    /// The application event bus, its archive and its log rule.
    #[cfg(feature = "events")]
    pub fn events(&mut self) -> Result<&events::Bus, Error> {
        let (f, bus) = events::bus(&events::BusProps {
            namer: self.namer(),
            app: self.env.config.app.clone(),
            key_arn: self.base.key.arn(),
            archive_retention_days: self.env.config.events.archive_retention_days,
            log_retention_days: self.env.config.network.flow_log_retention_days,
        })?;
        self.body.merge(f)?;
        self.users.events = true;
        self.grants.extend(bus.grant_put_events());
        self.parameters.event_bus = Some(bus.name());
        Ok(self.bus.insert(bus))
    }

    /// The backup vault and plans: what was added so far daily (the sessions table, the
    /// configuration bucket), the Aurora cluster continuously `with_database` (the primary's,
    /// which writes), copies to `copy_to`.
    #[cfg(feature = "backup")]
    pub fn backup(
        &mut self,
        with_database: bool,
        copy_to: Option<backup::CopyTo>,
    ) -> Result<(), Error> {
        let b = &self.env.config.backup;
        let aurora_clusters = match &self.database_arn {
            Some(arn) if with_database => vec![arn.clone()],
            _ => Vec::new(),
        };
        let (f, _) = backup::build(&backup::BackupProps {
            vault_lock: b.vault_lock.then_some(backup::VaultLock {
                min_days: b.lock_min_retention_days,
                max_days: b.lock_max_retention_days,
                compliance_after_days: (b.vault_lock_mode == environment::LockMode::Compliance)
                    .then_some(b.lock_grace_days),
            }),
            // Each region tests what its vault holds: the primary's Aurora and tables, the
            // secondary's tables (its vault has no Aurora recovery points of its own).
            restore_tests: Some(backup::RestoreTests {
                schedule: b.restore_test_schedule.clone(),
                aurora: self.restore_target.clone().filter(|_| with_database),
                tables: self.restore_tables.clone(),
            }),
            schedule: b.schedule.clone(),
            daily_retention_days: b.daily_retention_days,
            continuous_retention_days: b.continuous_retention_days,
            aurora_clusters,
            daily_resources: self.daily_backups.clone(),
            copy_to: copy_to.clone(),
            // The primary also copies into the secondary's air-gapped vault, once it exists.
            air_gapped_copy: (b.air_gapped_vault && self.role == RegionRole::Primary).then(|| {
                backup::CopyTo {
                    vault_arn: backup::air_gapped_vault_arn(&self.other_namer()),
                    condition: copy_to.as_ref().and_then(|c| c.condition.clone()),
                }
            }),
            air_gapped_vault: (b.air_gapped_vault && self.role == RegionRole::Secondary).then_some(
                backup::AirGappedVault {
                    min_days: 7,
                    max_days: b.daily_retention_days,
                },
            ),
            account_copy: (!b.copy_account_id.is_empty()).then(|| backup::AccountCopy {
                account_id: b.copy_account_id.clone(),
                vault_name: b.copy_vault_name.clone(),
            }),
            ..backup::BackupProps::new(self.namer(), self.base.key.arn())
        })?;
        self.body.merge(f)?;
        if copy_to.is_some() {
            self.copies_from = Some(backup::vault_arn(&self.namer()));
        }
        self.users.backup = true;
        Ok(())
    }

    /// The region's SSM parameters (the same entries in both regions, with this region's
    /// values); returns the props of its side of their replication, which the region adds
    /// (the source in the primary, the target in the secondary).
    #[cfg(feature = "configuration")]
    pub fn configuration(&mut self) -> Result<configuration::ReplicationProps, Error> {
        let (f, replication) =
            configuration(self.env, self.role, &self.base, self.parameters.clone())?;
        self.body.merge(f)?;
        Ok(replication)
    }

    /// The primary's side of configuration replication (to `to`), with the alarm on its
    /// failed executions.
    #[cfg(feature = "configuration")]
    pub fn configuration_source(
        &mut self,
        replication: &configuration::ReplicationProps,
        to: &str,
    ) -> Result<(), Error> {
        self.body
            .merge(configuration::source_side(replication, to)?)?;
        self.watch_machine(configuration::SOURCE_MACHINE, "config-source-failed", to);
        Ok(())
    }

    /// The secondary's side of configuration replication, with the alarm on its failed
    /// executions.
    #[cfg(feature = "configuration")]
    pub fn configuration_target(
        &mut self,
        replication: &configuration::ReplicationProps,
    ) -> Result<(), Error> {
        self.body.merge(configuration::target_side(replication)?)?;
        let here = self.env.region(self.role).name.clone();
        self.watch_machine(configuration::TARGET_MACHINE, "config-target-failed", &here);
        Ok(())
    }

    #[cfg(feature = "configuration")]
    #[cfg_attr(not(feature = "canaries"), allow(unused_variables))]
    fn watch_machine(&mut self, logical: &str, qualifier: &str, to: &str) {
        #[cfg(feature = "canaries")]
        self.paths.push(canaries::PathAlarm {
            logical: format!("{logical}FailedAlarm"),
            qualifier: qualifier.into(),
            description: format!(
                "Configuration replication to {to} failed: the shared parameters may differ"
            ),
            namespace: "AWS/States".into(),
            metric: "ExecutionsFailed".into(),
            dimensions: vec![(
                "StateMachineArn".into(),
                Expr::reference(&cfn::LogicalId::new(logical).expect("a logical id")),
            )],
            statistic: "Sum".into(),
            threshold: 0.0,
            periods: 1,
            condition: None,
        });
    }

    /// The application service behind its HTTPS load balancer (`certificate_arn`), allowed to
    /// use every data component of the region.
    #[cfg(feature = "service")]
    pub fn service(&mut self, certificate_arn: Expr) -> Result<service::Service, Error> {
        let app = service(
            self.env,
            self.role,
            &self.base,
            ServiceInputs {
                db_host: self.db_host.clone(),
                certificate_arn,
                task_statements: self.grants.clone(),
            },
            &mut self.body,
        )?;
        #[cfg(feature = "firewall")]
        self.firewall(&app)?;
        Ok(app)
    }

    /// The web ACL in front of the load balancer: the same rules in both regions, from the
    /// environment's `firewall` settings.
    #[cfg(feature = "firewall")]
    fn firewall(&mut self, app: &service::Service) -> Result<(), Error> {
        let w = &self.env.config.firewall;
        let (f, _) = firewall::build(&firewall::FirewallProps {
            rate_limit: w.rate_limit,
            log_retention_days: w.log_retention_days,
            ..firewall::FirewallProps::new(
                self.namer(),
                self.base.key.arn(),
                app.load_balancer.reference(),
            )
        })?;
        self.body.merge(f)
    }

    /// The region's alert topic, the canaries' artifacts bucket and role.
    #[cfg(feature = "canaries")]
    pub fn watch(&mut self) -> Result<Watch, Error> {
        let m = &self.env.config.monitoring;
        let props = canaries::MonitoringProps {
            emails: m.emails.clone(),
            runtime: m.runtime.clone(),
            schedule: m.schedule.clone(),
            expected_body: m.expected_body.clone(),
            success_threshold_percent: m.success_threshold_percent,
            duration_threshold_ms: m.duration_threshold_ms,
            ..canaries::MonitoringProps::new(self.namer(), self.base.key.arn())
        };
        let (f, monitoring) = canaries::topic_and_bucket(&props)?;
        self.body.merge(f)?;
        self.users.alerts = true;
        Ok(Watch { props, monitoring })
    }

    /// An alarm for every replication path added so far (buckets, the sessions table,
    /// configuration), and alerts on failed cross-region backup copies; returns the alarms'
    /// names.
    #[cfg(feature = "canaries")]
    pub fn replication_alarms(&mut self, watch: &Watch) -> Result<Vec<String>, Error> {
        let mut names = Vec::new();
        for path in std::mem::take(&mut self.paths) {
            names.push(canaries::path_alarm(
                &mut self.body,
                &watch.props,
                &watch.monitoring,
                &path,
            )?);
        }
        if let Some(vault) = self.copies_from.clone() {
            canaries::copy_failure_alerts(&mut self.body, &watch.props, &watch.monitoring, vault)?;
        }
        if let Some(secret) = self.rotated_secret.clone() {
            canaries::rotation_failure_alerts(
                &mut self.body,
                &watch.props,
                &watch.monitoring,
                &secret,
            )?;
        }
        Ok(names)
    }

    /// A canary named by `rule` that checks the health path of the region `label` serves
    /// (`primary`, `secondary`) from here; returns its success alarm's name.
    #[cfg(feature = "canaries")]
    pub fn canary(
        &mut self,
        watch: &Watch,
        logical: &str,
        rule: &cfn::naming::NameRule,
        label: &str,
    ) -> Result<canaries::NamedAlarm, Error> {
        let url = Expr::from(format!(
            "https://{}{}",
            dns::regional_name(label, &zone_name(self.env)),
            self.env.config.service.health_path
        ));
        canaries::canary(
            &mut self.body,
            &watch.props,
            &watch.monitoring,
            logical,
            rule,
            url,
        )
    }

    /// The finished template: the key (its policy for the components added), description,
    /// standard tags on every taggable resource, and a check that every reference resolves.
    #[cfg(feature = "keys")]
    pub fn finish(mut self) -> Result<Template, Error> {
        let (f, _) = key(self.env, self.role, self.users)?;
        self.body.merge(f)?;
        finish(self.env, self.role, self.body)
    }
}

/// Which components of a region stack use its key, recorded by [`Region`] as they are added;
/// this one mapping says what each needs of the key.
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
    /// The alert topic, to which CloudWatch alarms, EventBridge rules and the runbooks publish.
    pub alerts: bool,
    /// The audit trail (CloudTrail encrypts its log files with the key).
    pub trail: bool,
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
            // The runbooks (an IAM role) publish to the encrypted alert topic: SNS uses the
            // key as the publisher, through SNS (kms:GenerateDataKey, kms:Decrypt;
            // https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html). Without it
            // every failover and failback notification was denied, and the runbook's Catch hid it.
            (self.alerts, "sns"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, service)| service.to_string())
        .collect()
    }

    /// The services that use the key themselves, as principals.
    pub fn service_principals(&self) -> Vec<String> {
        [
            (self.events || self.alerts, "events.amazonaws.com"),
            (self.alerts, "cloudwatch.amazonaws.com"),
            (self.trail, "cloudtrail.amazonaws.com"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, principal)| principal.to_string())
        .collect()
    }
}

/// The key of the region serving `role`, whose policy lets `users` use it.
#[cfg(feature = "keys")]
fn key(
    env: &Environment,
    role: RegionRole,
    users: KeyUsers,
) -> Result<(Fragment, keys::RegionKey), Error> {
    keys::build(&keys::KeysProps {
        namer: env.namer(role),
        pending_window_days: env.config.keys.pending_window_days,
        via_services: users.via_services(),
        cloudwatch_logs: cfg!(feature = "network"),
        service_principals: users.service_principals(),
        recovery_account: Some(env.config.backup.copy_account_id.clone())
            .filter(|a| users.backup && !a.is_empty()),
    })
}

/// The network of the region serving `role`.
#[cfg(feature = "network")]
fn network(
    env: &Environment,
    role: RegionRole,
    key: &keys::RegionKey,
) -> Result<(Fragment, network::Network), Error> {
    network::build(&network::NetworkProps {
        nat: match env.config.network.nat_gateways {
            environment::NatGateways::PerAz => network::NatPolicy::PerAz,
            environment::NatGateways::Single => network::NatPolicy::Single,
        },
        flow_log_retention_days: env.config.network.flow_log_retention_days,
        ..network::NetworkProps::new(
            env.namer(role),
            env.vpc_cidr(role),
            env.availability_zones(role),
            key,
        )
    })
}

/// What the service of either region needs from its stack.
#[cfg(feature = "service")]
struct ServiceInputs {
    /// The database host the application writes to (this region's cluster endpoint).
    db_host: Option<cfn::Expr>,
    /// The HTTPS listener's certificate.
    certificate_arn: cfn::Expr,
    /// What the task role may do (grants from the data tier).
    task_statements: Vec<cfn::iam::Statement>,
}

/// Builds the application service of the region serving `role` into `body`. Both regions go
/// through here, so their task definitions are made from the same inputs; only region-specific
/// references (roles, log group, endpoints) differ.
#[cfg(feature = "service")]
fn service(
    env: &Environment,
    role: RegionRole,
    base: &Foundation,
    inputs: ServiceInputs,
    body: &mut Fragment,
) -> Result<service::Service, Error> {
    use cfn::Expr;
    use cfn::iam::Statement;
    use cfn::naming::ParameterPaths;
    let s = &env.config.service;
    let paths = env.parameter_paths();
    let prefix = paths.prefix().to_string();
    let active_region = paths
        .arn(&ParameterPaths::shared_key(ParameterPaths::ACTIVE_REGION))
        .expr();
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
        // The application signs in as its own user with IAM authentication (the task role's
        // rds-db:connect grant): no password reaches the container, so rotating the master
        // secret never touches a running task (docs/decisions.md).
        ("DB_USER".to_string(), Expr::from(APP_DB_USER)),
        ("DB_AUTH".to_string(), Expr::from("iam")),
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
        secrets: vec![("ACTIVE_REGION".to_string(), active_region.clone())],
    };
    let desired = match role {
        RegionRole::Primary => s.primary_desired_count,
        RegionRole::Secondary => s.secondary_desired_count,
    };
    let execution_statements = vec![Statement::allow(["ssm:GetParameters"], [active_region])];
    // The secondary's floor follows the failover: a parameter the deployer sets.
    let min_capacity = match role {
        RegionRole::Primary => None,
        RegionRole::Secondary => Some(runtime::service_floor(env, body)?),
    };
    let (f, svc) = service::build(
        &service::ServiceProps {
            namer: env.namer(role),
            container,
            desired_count: desired,
            min_count: desired,
            min_capacity,
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
#[derive(Clone, Debug, Default)]
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
fn configuration(
    env: &Environment,
    role: RegionRole,
    base: &Foundation,
    inputs: ConfigurationInputs,
) -> Result<(Fragment, configuration::ReplicationProps), Error> {
    let namer = env.namer(role);
    let mut declared = Fragment::new();
    let (active_region, failover_active) = runtime::configuration(env, &mut declared)?;
    let standard = configuration::Standard {
        active_region,
        failover_active,
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
    let paths = env.parameter_paths();
    let mut fragment = configuration::parameters(&configuration::ParametersProps {
        paths: paths.clone(),
        entries: standard.entries(),
    })?;
    fragment.merge(declared)?;
    let replication = configuration::ReplicationProps {
        namer,
        app: env.config.app.clone(),
        paths,
        key_arn: base.key.arn(),
        log_retention_days: env.config.network.flow_log_retention_days,
    };
    Ok((fragment, replication))
}

/// Stack parameters whose values the runbooks own at run time. On every deploy the deployer
/// reads what the runbooks recorded in the recovery region and passes it (the manifest's
/// `runtime` sources), so a deploy never reverts a failover or a failback; the defaults are the
/// values of normal operation.
pub mod runtime {
    use cfn::{Error, Expr, Fragment, LogicalId, Parameter};
    use environment::{Environment, RegionRole};

    /// The region serving traffic (`shared/active-region`), in both stacks.
    pub const ACTIVE_REGION: &str = "ActiveRegion";
    /// The failover flag (`shared/flags/failover-active`), in both stacks.
    pub const FAILOVER_ACTIVE: &str = "FailoverActive";
    /// The secondary service's auto scaling floor: warm, or full while failed over.
    pub const SERVICE_MIN_CAPACITY: &str = "ServiceMinCapacity";

    /// Declares the active region and the failover flag; their references.
    pub(crate) fn configuration(
        env: &Environment,
        body: &mut Fragment,
    ) -> Result<(Expr, Expr), Error> {
        let primary = &env.region(RegionRole::Primary).name;
        let secondary = &env.region(RegionRole::Secondary).name;
        let active = body.parameter(
            LogicalId::new(ACTIVE_REGION)?,
            Parameter::string(
                "The region serving traffic, as the runbooks recorded it in the recovery region",
            )
            .default_value(primary.as_str())
            .pattern(format!("^({primary}|{secondary})$")),
        )?;
        let flag = body.parameter(
            LogicalId::new(FAILOVER_ACTIVE)?,
            Parameter::string(
                "\"true\" while failed over, as the runbooks recorded it in the recovery region",
            )
            .default_value("false")
            .pattern("^(true|false)$"),
        )?;
        Ok((active, flag))
    }

    /// Declares the secondary service's floor; its reference.
    pub(crate) fn service_floor(env: &Environment, body: &mut Fragment) -> Result<Expr, Error> {
        body.parameter(
            LogicalId::new(SERVICE_MIN_CAPACITY)?,
            Parameter::string(
                "The service's auto scaling floor: the warm count, or full capacity while failed over",
            )
            .default_value(env.config.service.secondary_desired_count.to_string())
            .pattern("^[1-9][0-9]{0,2}$"),
        )
    }
}

/// The zone of the environment: `<suffix>.<parent_domain>`.
pub fn zone_name(env: &Environment) -> String {
    cfn::naming::zone_name(&env.suffix, &env.config.dns.parent_domain)
}

/// Makes the template of the `role` stack from `body`: description, the standard tags on every
/// taggable resource, and a check that every reference resolves.
fn finish(env: &Environment, role: RegionRole, body: Fragment) -> Result<Template, Error> {
    let mut template = Template::new(
        format!(
            // not a name: the template's description
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

/// Lets the application read its configuration parameters (`/<app>/<suffix>/…`).
fn parameters_read(env: &Environment) -> cfn::iam::Statement {
    let paths = env.parameter_paths();
    cfn::iam::Statement::allow(
        [
            "ssm:GetParameter",
            "ssm:GetParameters",
            "ssm:GetParametersByPath",
        ],
        [paths.prefix_arn().expr(), paths.arn("*").expr()],
    )
}
