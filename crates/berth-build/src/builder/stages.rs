//! The stage loop: each planned stage's base resolved, its ONBUILD triggers and
//! instructions dispatched, and the classic builder's `Step n/m`, ` ---> <id12>`,
//! `Successfully built` and `Successfully tagged` lines written around them.

use super::{BuildError, Builder, Built, Progress, Res, StageState, short_id};
use crate::config::StageConfig;
use crate::executor::{BaseImage, Executor};
use crate::instructions::{Command, Instruction, KeyValue};
use crate::plan::{Base, Plan, StageVars};
use crate::{Dockerfile, parse_triggers};

impl<X: Executor> Builder<'_, X> {
    pub(super) fn say(&mut self, text: String) {
        (self.progress)(Progress::Stream(text));
    }

    fn check_cancel(&mut self) -> Res<(), X> {
        if (self.cancelled)() {
            self.say("Build cancelled\n".into());
            return Err(BuildError::Cancelled);
        }
        Ok(())
    }

    pub(super) fn run(&mut self, df: &Dockerfile, plan: &Plan) -> Res<Built, X> {
        for w in &df.warnings {
            self.say(format!("[WARNING]: {}\n", w.message));
        }
        let label_step = self.label_instruction();
        let total = plan.step_count(df) + usize::from(label_step.is_some());
        let mut n = 1;
        for ins in &df.meta_args {
            self.say(format!("Step {n}/{total} : {}\n", ins.original));
            n += 1;
        }
        let mut last = String::new();
        for ps in &plan.stages {
            self.check_cancel()?;
            let stage = &df.stages[ps.index];
            self.say(format!("Step {n}/{total} : {}\n", stage.original));
            n += 1;
            let base = match &ps.base {
                Base::Scratch => self.ex.scratch().map_err(BuildError::Executor)?,
                Base::Stage(i) => self
                    .results
                    .get(i)
                    .cloned()
                    .ok_or_else(|| BuildError::Stage(i.to_string()))?,
                Base::Image(r) => {
                    let progress = &mut *self.progress;
                    let mut sink = |t: &str| progress(Progress::Stream(t.to_string()));
                    self.ex
                        .resolve(r, ps.platform.as_ref(), &mut sink)
                        .map_err(BuildError::Executor)?
                }
            };
            let mut config = base.config.clone();
            let triggers = std::mem::take(&mut config.on_build);
            let mut st = StageState {
                image: base.id.clone(),
                vars: StageVars::new(plan, &base.config.env),
                config: StageConfig::new(config),
            };
            if !triggers.is_empty() {
                let parsed = parse_triggers(&triggers)?;
                let s = if triggers.len() > 1 { "s" } else { "" };
                self.say(format!("# Executing {} build trigger{s}\n", triggers.len()));
                for t in &parsed {
                    self.check_cancel()?;
                    self.dispatch(&mut st, t)?;
                }
            }
            self.say(format!(" ---> {}\n", short_id(&st.image)));
            let is_target = ps.index == plan.target;
            let extra = if is_target { label_step.as_ref() } else { None };
            for ins in stage.instructions.iter().chain(extra) {
                self.check_cancel()?;
                self.say(format!("Step {n}/{total} : {}\n", ins.original));
                n += 1;
                self.dispatch(&mut st, ins)?;
                self.say(format!(" ---> {}\n", short_id(&st.image)));
            }
            (self.progress)(Progress::Aux(st.image.clone()));
            self.results.insert(
                ps.index,
                BaseImage {
                    id: st.image.clone(),
                    config: st.config.config.clone(),
                },
            );
            last = st.image;
        }
        if let Some(w) = plan.unused_args_warning() {
            self.say(w);
        }
        self.say(format!("Successfully built {}\n", short_id(&last)));
        let tags = if self.settings.tags.is_empty() {
            Vec::new()
        } else {
            self.ex
                .tag(&last, &self.settings.tags)
                .map_err(BuildError::Executor)?
        };
        for t in &tags {
            self.say(format!("Successfully tagged {t}\n"));
        }
        Ok(Built { id: last, tags })
    }

    /// `--label`s as the target's last step: `LABEL k=v ...`, keys sorted, values not
    /// expanded (dockerd's `buildLabelOptions`).
    fn label_instruction(&self) -> Option<Instruction> {
        if self.settings.labels.is_empty() {
            return None;
        }
        let kvs: Vec<KeyValue> = self
            .settings
            .labels
            .iter()
            .map(|(k, v)| KeyValue {
                key: k.clone(),
                value: v.clone(),
                no_delim: false,
            })
            .collect();
        let text: Vec<String> = kvs
            .iter()
            .map(|kv| format!("{:?}={:?}", kv.key, kv.value))
            .collect();
        Some(Instruction {
            line: 0,
            end_line: 0,
            original: format!("LABEL {}", text.join(" ")),
            command: Command::Label(kvs),
        })
    }
}
