//! Progress of waits: a live display on a terminal, plain lines otherwise.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::types::{ImageId, Region};

/// Interval between plain progress lines when stderr is not a terminal.
const LINE_INTERVAL: Duration = Duration::from_secs(30);

pub struct WaitProgress {
    started: Instant,
    bars: Option<(MultiProgress, HashMap<ImageId, ProgressBar>)>,
    regions: HashMap<ImageId, Region>,
    last_line: Instant,
}

impl WaitProgress {
    pub fn new<'a>(images: impl Iterator<Item = (&'a ImageId, &'a Region)>) -> Self {
        let images: Vec<(ImageId, Region)> =
            images.map(|(id, r)| (id.clone(), r.clone())).collect();
        let bars = std::io::stderr().is_terminal().then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{spinner} {prefix} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            let bars = images
                .iter()
                .map(|(id, region)| {
                    let bar = multi.add(ProgressBar::new_spinner().with_style(style.clone()));
                    bar.set_prefix(format!("{id} ({region})"));
                    bar.set_message("waiting");
                    bar.enable_steady_tick(Duration::from_millis(200));
                    (id.clone(), bar)
                })
                .collect();
            (multi, bars)
        });
        if bars.is_none() && !images.is_empty() {
            let list: Vec<String> = images.iter().map(|(id, r)| format!("{id} ({r})")).collect();
            crate::errln!(
                "waiting for {} image(s) to become available: {}",
                images.len(),
                list.join(", ")
            );
        }
        Self {
            started: Instant::now(),
            bars,
            regions: images.into_iter().collect(),
            last_line: Instant::now(),
        }
    }

    /// True when a live display is drawn on a terminal.
    pub fn is_live(&self) -> bool {
        self.bars.is_some()
    }

    pub fn update(&mut self, id: &ImageId, state: &str) {
        if let Some((_, bars)) = &self.bars {
            if let Some(bar) = bars.get(id) {
                bar.set_message(state.to_owned());
            }
            return;
        }
        if self.last_line.elapsed() >= LINE_INTERVAL {
            self.last_line = Instant::now();
            let region = self
                .regions
                .get(id)
                .map(ToString::to_string)
                .unwrap_or_default();
            crate::errln!(
                "{id} ({region}) {state} after {}s",
                self.started.elapsed().as_secs()
            );
        }
    }

    pub fn finish(&mut self, id: &ImageId) {
        let elapsed = self.started.elapsed().as_secs_f64();
        match &self.bars {
            Some((_, bars)) => {
                if let Some(bar) = bars.get(id) {
                    bar.finish_with_message(format!("available after {elapsed:.1}s"));
                }
            }
            None => {
                let region = self
                    .regions
                    .get(id)
                    .map(ToString::to_string)
                    .unwrap_or_default();
                crate::errln!("{id} ({region}) available after {elapsed:.1}s");
            }
        }
    }

    pub fn abandon(&mut self) {
        if let Some((_, bars)) = &self.bars {
            bars.values().for_each(ProgressBar::abandon);
        }
    }

    pub fn clear(&mut self) {
        if let Some((multi, _)) = &self.bars {
            let _ = multi.clear();
        }
    }
}
