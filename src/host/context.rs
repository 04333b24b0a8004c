//! The state that host functions share during one runbook run or REPL session.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::plan::{ImageRef, Plan, PlannedChange};
use super::HostError;
use crate::aws::{Aws, AwsOptions, ImageInfo};
use crate::journal::Journal;
use crate::types::{AccountId, ImageId, Region};

/// Whether changes are made or only recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Execute,
    Plan,
}

/// Default cap on concurrent copies per destination region. NOTE: an estimate chosen below
/// the per-region CopyImage concurrency quotas that AWS accounts commonly have; raise it with
/// `--max-copies-per-region` where the account's quota is higher.
pub const DEFAULT_MAX_COPIES_PER_REGION: usize = 20;

/// Settings that come from the command line.
#[derive(Debug, Clone)]
pub struct HostSettings {
    pub aws: AwsOptions,
    pub allow_public: bool,
    /// First poll interval of waits; it backs off from there.
    pub poll_interval: Duration,
    /// Upper bound of the poll interval.
    pub max_poll_interval: Duration,
    /// Most copies this session runs at once into one destination region.
    pub max_copies_per_region: usize,
}

impl Default for HostSettings {
    fn default() -> Self {
        Self {
            aws: AwsOptions::default(),
            allow_public: false,
            poll_interval: Duration::from_secs(2),
            max_poll_interval: Duration::from_secs(30),
            max_copies_per_region: DEFAULT_MAX_COPIES_PER_REGION,
        }
    }
}

/// The identity of a run, as tags, records and the audit trail name it.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub runbook: String,
    pub version: String,
    pub hash: String,
    pub run_id: String,
    pub started: String,
}

/// Files a run loaded, for the content hash.
#[derive(Debug, Default, Clone)]
pub struct LoadedSources {
    pub files: Vec<(String, String)>,
}

type DeferredCheck = Box<dyn FnOnce(&HostContext) -> Result<(), HostError>>;

/// Shared by all host functions of one engine.
pub struct HostContext {
    runtime: tokio::runtime::Handle,
    pub settings: HostSettings,
    aws: OnceCell<Arc<Aws>>,
    pub mode: Cell<Mode>,
    pub run: RefCell<Option<RunInfo>>,
    /// The folder that relative script paths start from.
    pub base_dir: RefCell<PathBuf>,
    pub plan: RefCell<Plan>,
    pub journal: RefCell<Option<Journal>>,
    pub sources: Rc<RefCell<LoadedSources>>,
    image_regions: RefCell<HashMap<ImageId, Region>>,
    /// Images this run created or copied, which may briefly be unknown to DescribeImages.
    fresh_images: RefCell<HashSet<ImageId>>,
    /// Descriptions of available images, which do not change.
    available: RefCell<HashMap<ImageId, ImageInfo>>,
    caller: RefCell<Option<AccountId>>,
    /// Read-only checks that plan mode runs after the whole script, so that a script which
    /// fails early (a bad partner script, say) makes no AWS call at all.
    deferred: RefCell<Vec<DeferredCheck>>,
    /// Checks already made this session, by key, so each runs once.
    done_checks: RefCell<HashSet<String>>,
    /// The regions enabled for the account once read; the inner `None` when unreadable.
    pub(super) enabled_regions: RefCell<Option<Option<Vec<String>>>>,
    /// Copies started by this session per destination region, until seen available.
    pub(super) copies_in_flight: RefCell<HashMap<Region, Vec<ImageId>>>,
    mutations: Cell<usize>,
    cancel: Arc<tokio::sync::Notify>,
}

impl HostContext {
    pub fn new(runtime: tokio::runtime::Handle, settings: HostSettings, base_dir: PathBuf) -> Self {
        Self {
            runtime,
            settings,
            aws: OnceCell::new(),
            mode: Cell::new(Mode::Execute),
            run: RefCell::new(None),
            base_dir: RefCell::new(base_dir),
            plan: RefCell::new(Plan::default()),
            journal: RefCell::new(None),
            sources: Rc::new(RefCell::new(LoadedSources::default())),
            image_regions: RefCell::new(HashMap::new()),
            fresh_images: RefCell::new(HashSet::new()),
            available: RefCell::new(HashMap::new()),
            caller: RefCell::new(None),
            done_checks: RefCell::new(HashSet::new()),
            enabled_regions: RefCell::new(None),
            deferred: RefCell::new(Vec::new()),
            copies_in_flight: RefCell::new(HashMap::new()),
            mutations: Cell::new(0),
            cancel: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Returns the handle that cancels the call in progress (Ctrl-C in the REPL).
    pub fn cancel_handle(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.cancel)
    }

    pub fn is_plan(&self) -> bool {
        self.mode.get() == Mode::Plan
    }

    /// Number of mutating steps attempted so far (plan mode records none).
    pub fn mutations(&self) -> usize {
        self.mutations.get()
    }

    /// Runs an SDK future to completion from the engine thread. The engine never runs on a
    /// runtime worker, so blocking here cannot stall the runtime.
    pub fn block_on<T>(
        &self,
        future: impl Future<Output = Result<T, HostError>>,
    ) -> Result<T, HostError> {
        let cancel = Arc::clone(&self.cancel);
        self.runtime.block_on(async move {
            tokio::select! {
                result = future => result,
                () = cancel.notified() => Err(HostError::Cancelled),
            }
        })
    }

    /// Returns the AWS connection, loading it on first use so that commands that need no AWS
    /// call never read credentials.
    pub fn aws(&self) -> Result<Arc<Aws>, HostError> {
        if let Some(aws) = self.aws.get() {
            return Ok(Arc::clone(aws));
        }
        let options = self.settings.aws.clone();
        let aws = self
            .runtime
            .block_on(Aws::load(&options))
            .map_err(|error| HostError::failed("ConfigurationError", format!("{error:#}")))?;
        let aws = Arc::new(aws);
        let _ = self.aws.set(Arc::clone(&aws));
        Ok(aws)
    }

    /// Uses `aws` as this session's connection instead of loading one from the settings.
    /// Returns false, changing nothing, when a connection is in use already.
    pub fn set_aws(&self, aws: Arc<Aws>) -> bool {
        self.aws.set(aws).is_ok()
    }

    pub fn loaded_aws(&self) -> Option<Arc<Aws>> {
        self.aws.get().cloned()
    }

    /// Returns the region an option names, else the default region.
    pub fn region_or_default(&self, region: Option<Region>) -> Result<Region, HostError> {
        match region {
            Some(region) => Ok(region),
            None => Ok(self.aws()?.default_region().clone()),
        }
    }

    /// Returns the region of an image: the option if given, else where this session saw it,
    /// else the default region.
    pub fn image_region(
        &self,
        image: &ImageRef,
        option: Option<Region>,
    ) -> Result<Region, HostError> {
        if let Some(region) = option {
            return Ok(region);
        }
        match image {
            ImageRef::Planned(planned) => Ok(planned.region.clone()),
            ImageRef::Real(id) => match self.image_regions.borrow().get(id) {
                Some(region) => Ok(region.clone()),
                None => self.region_or_default(None),
            },
        }
    }

    pub fn remember_image(&self, id: &ImageId, region: &Region, fresh: bool) {
        self.image_regions
            .borrow_mut()
            .insert(id.clone(), region.clone());
        if fresh {
            self.fresh_images.borrow_mut().insert(id.clone());
        }
    }

    /// Queues a read-only check to run once the plan pass has finished.
    pub fn defer(&self, check: impl FnOnce(&HostContext) -> Result<(), HostError> + 'static) {
        self.deferred.borrow_mut().push(Box::new(check));
    }

    /// Runs the queued checks in order, stopping at the first failure.
    pub fn run_deferred(&self) -> Result<(), HostError> {
        let checks = std::mem::take(&mut *self.deferred.borrow_mut());
        for check in checks {
            check(self)?;
        }
        Ok(())
    }

    /// Returns true the first time it is called with `key` in this session.
    pub fn first_check(&self, key: String) -> bool {
        self.done_checks.borrow_mut().insert(key)
    }

    /// Makes the check of `key` due again, after it failed: a failed check must fail again
    /// on the next call rather than count as passed.
    pub fn forget_check(&self, key: &str) {
        self.done_checks.borrow_mut().remove(key);
    }

    pub fn is_fresh(&self, id: &ImageId) -> bool {
        self.fresh_images.borrow().contains(id)
    }

    pub fn cached_available(&self, id: &ImageId) -> Option<ImageInfo> {
        self.available.borrow().get(id).cloned()
    }

    pub fn cache_available(&self, info: &ImageInfo) {
        self.available
            .borrow_mut()
            .insert(info.image_id.clone(), info.clone());
    }

    /// Returns the account of the credentials in use, requested from STS once per session.
    pub fn caller_account(&self) -> Result<AccountId, HostError> {
        if let Some(account) = self.caller.borrow().clone() {
            return Ok(account);
        }
        let aws = self.aws()?;
        let account = self.block_on(async move { Ok(aws.caller_account().await?) })?;
        let account = AccountId::parse(&account)?;
        *self.caller.borrow_mut() = Some(account.clone());
        Ok(account)
    }

    pub fn record_change(&self, change: PlannedChange) {
        self.plan.borrow_mut().changes.push(change);
    }

    pub(super) fn count_mutations(&self, count: usize) {
        self.mutations.set(self.mutations.get() + count);
    }

    pub(super) fn with_journal(
        &self,
        write: impl FnOnce(&mut Journal) -> std::io::Result<()>,
    ) -> Result<(), HostError> {
        if let Some(journal) = self.journal.borrow_mut().as_mut() {
            write(journal).map_err(|error| {
                HostError::failed(
                    "JournalError",
                    format!("failed to write the journal: {error}"),
                )
            })?;
        }
        Ok(())
    }
}
