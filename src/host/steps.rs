//! Mutating steps through the journal: one at a time, or several at once in lanes.

use std::collections::BTreeMap;
use std::future::Future;

use futures_util::stream::{self, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{HostContext, HostError};
use crate::journal::StepLookup;

/// Most lanes of one batch that call AWS at the same time.
const MAX_LANES: usize = 16;

/// One step of a batch: its journal arguments, the lane it runs in, and its input.
pub struct StepJob<J> {
    pub arguments: serde_json::Value,
    /// Jobs with the same lane run one after another, in order; lanes run concurrently.
    pub lane: String,
    pub input: J,
}

/// The journal's record of a step before it runs.
enum Begun<T> {
    /// Done in an earlier attempt: its recorded result.
    Done(T),
    /// To run; the key is absent when the session keeps no journal.
    Run { key: Option<String> },
}

impl HostContext {
    /// Runs one mutating step through the journal. A step done before returns its recorded
    /// result without calling AWS. Otherwise `action` runs with a flag that is true when an
    /// earlier attempt was interrupted, and its result is recorded.
    pub fn step<T, F>(
        &self,
        operation: &str,
        arguments: serde_json::Value,
        action: F,
    ) -> Result<T, HostError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce(bool) -> Result<T, HostError>,
    {
        let (begun, interrupted) = self.begin(operation, &[arguments])?;
        match begun.into_iter().next() {
            Some(Begun::Done(result)) => Ok(result),
            Some(Begun::Run { key }) => {
                let result = action(interrupted)?;
                self.complete(vec![(key, &result)])?;
                Ok(result)
            }
            None => unreachable!("one step was begun"),
        }
    }

    /// Runs a batch of steps of one operation. Every step is recorded as started, in one
    /// journal write, before the first call; steps done in an earlier attempt keep their
    /// recorded result. Lanes run concurrently, up to `MAX_LANES` at a time, and the jobs of
    /// one lane run in order. Each step's result is recorded as soon as it is known. Results
    /// come back in the order of `jobs`. When steps fail, the others still run, and the
    /// first failure in `jobs` order is returned, so a new attempt repeats only what failed.
    pub fn steps<J, T, F, Fut>(
        &self,
        operation: &str,
        jobs: Vec<StepJob<J>>,
        run: F,
    ) -> Result<Vec<T>, HostError>
    where
        T: Serialize + DeserializeOwned,
        F: Fn(J) -> Fut,
        Fut: Future<Output = Result<T, HostError>>,
    {
        self.steps_replaying(operation, jobs, |_, _| {}, run)
    }

    /// Runs a batch as [`HostContext::steps`] does, and first calls `replay` with each job
    /// whose result the journal recorded in an earlier attempt.
    pub fn steps_replaying<J, T, R, F, Fut>(
        &self,
        operation: &str,
        jobs: Vec<StepJob<J>>,
        replay: R,
        run: F,
    ) -> Result<Vec<T>, HostError>
    where
        T: Serialize + DeserializeOwned,
        R: Fn(&J, &T),
        F: Fn(J) -> Fut,
        Fut: Future<Output = Result<T, HostError>>,
    {
        let arguments: Vec<serde_json::Value> =
            jobs.iter().map(|job| job.arguments.clone()).collect();
        let (begun, _) = self.begin(operation, &arguments)?;

        let mut results: Vec<Option<Result<T, HostError>>> = Vec::with_capacity(jobs.len());
        let mut lanes: BTreeMap<String, Vec<(usize, Option<String>, J)>> = BTreeMap::new();
        for (index, (job, begun)) in jobs.into_iter().zip(begun).enumerate() {
            match begun {
                Begun::Done(result) => {
                    replay(&job.input, &result);
                    results.push(Some(Ok(result)));
                }
                Begun::Run { key } => {
                    results.push(None);
                    lanes
                        .entry(job.lane)
                        .or_default()
                        .push((index, key, job.input));
                }
            }
        }

        let run = &run;
        let finished: Vec<(usize, Result<T, HostError>)> = self.block_on(async {
            let lanes = stream::iter(lanes.into_values().map(|lane| async move {
                let mut out = Vec::with_capacity(lane.len());
                for (index, key, input) in lane {
                    let result = match run(input).await {
                        Ok(value) => self.complete(vec![(key, &value)]).map(|()| value),
                        Err(error) => Err(error),
                    };
                    out.push((index, result));
                }
                out
            }));
            Ok(lanes
                .buffer_unordered(MAX_LANES)
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .flatten()
                .collect())
        })?;
        for (index, result) in finished {
            results[index] = Some(result);
        }

        let mut values = Vec::with_capacity(results.len());
        for result in results {
            values.push(
                result.unwrap_or_else(|| {
                    Err(HostError::failed("Cancelled", "the step did not run"))
                })?,
            );
        }
        Ok(values)
    }

    /// The key the journal will give the next step with these arguments, without taking it.
    pub fn step_tag(&self, operation: &str, arguments: &serde_json::Value) -> String {
        use sha2::{Digest, Sha256};
        let digest = hex::encode(Sha256::digest(format!("{operation}{arguments}").as_bytes()));
        digest[..16].to_owned()
    }

    /// Looks up each step in the journal and records, in one write, those about to run.
    /// Also returns whether any of them was interrupted in an earlier attempt.
    fn begin<T: DeserializeOwned>(
        &self,
        operation: &str,
        arguments: &[serde_json::Value],
    ) -> Result<(Vec<Begun<T>>, bool), HostError> {
        self.count_mutations(arguments.len());
        let mut begun = Vec::with_capacity(arguments.len());
        let mut interrupted = false;
        let mut starting: Vec<(String, &serde_json::Value)> = Vec::new();
        {
            let mut journal = self.journal.borrow_mut();
            let Some(journal) = journal.as_mut() else {
                let none = arguments.iter().map(|_| Begun::Run { key: None });
                return Ok((none.collect(), false));
            };
            for argument in arguments {
                let key = journal.next_key(operation, argument);
                match journal.lookup(&key) {
                    StepLookup::Done(value) => {
                        if let Ok(result) = serde_json::from_value(value) {
                            tracing::info!(operation, step = %key, "step done in an earlier attempt; using its recorded result");
                            begun.push(Begun::Done(result));
                            continue;
                        }
                        interrupted = true;
                    }
                    StepLookup::Interrupted => {
                        tracing::warn!(operation, step = %key, "step was interrupted in an earlier attempt; looking for its result in AWS before repeating it");
                        interrupted = true;
                    }
                    StepLookup::New => {}
                }
                starting.push((key.clone(), argument));
                begun.push(Begun::Run { key: Some(key) });
            }
        }
        if !starting.is_empty() {
            let records: Vec<(&str, &str, &serde_json::Value)> = starting
                .iter()
                .map(|(key, argument)| (key.as_str(), operation, *argument))
                .collect();
            self.with_journal(|journal| journal.start(&records))?;
        }
        Ok((begun, interrupted))
    }

    /// Records the results of steps that ran, in one journal write.
    fn complete<T: Serialize>(&self, results: Vec<(Option<String>, &T)>) -> Result<(), HostError> {
        let values: Vec<(String, serde_json::Value)> = results
            .into_iter()
            .filter_map(|(key, result)| {
                Some((key?, serde_json::to_value(result).unwrap_or_default()))
            })
            .collect();
        if values.is_empty() {
            return Ok(());
        }
        self.with_journal(|journal| {
            journal.complete(
                values
                    .iter()
                    .map(|(key, value)| (key.as_str(), value.clone()))
                    .collect(),
            )
        })
    }
}
