//! A RUN step: its cache key (history text plus mounts, network and script), its
//! container created and started with the output streamed, and dockerd's `rm`/`forcerm`
//! rules when it fails.

use super::{BuildError, Builder, Progress, Res, StageState, short_id};
use crate::cache::inline_digest;
use crate::executor::{CacheKey, Executor, RunStep};
use crate::instructions::{Mount, NetworkMode};

impl<X: Executor> Builder<'_, X> {
    pub(super) fn run_step(
        &mut self,
        st: &mut StageState,
        run: &crate::instructions::Run,
        mounts: Vec<Mount>,
    ) -> Res<(), X> {
        let argv = run.cmd.argv(&st.config.shell());
        let created_by = st.vars.run_created_by(&argv.args);
        // Mounts and network change what a RUN sees, so they are part of its key (not
        // of its history text, as in BuildKit).
        let mut key_text = created_by.clone();
        for m in &mounts {
            key_text.push_str(&format!(" --mount={m:?}"));
        }
        if run.network != NetworkMode::Default {
            key_text.push_str(&format!(" --network={:?}", run.network));
        }
        if let Some(f) = &argv.script_file {
            key_text.push_str(&format!(
                " script={}",
                inline_digest(std::slice::from_ref(f))
            ));
        }
        let key = CacheKey::new(&st.image, &key_text, None);
        if self.probe(st, &key)? {
            return Ok(());
        }
        let step = RunStep {
            args: argv.args.clone(),
            env: st.vars.run_env(),
            user: st.config.config.user.clone(),
            working_dir: st.config.config.working_dir.clone(),
            mounts,
            network: run.network,
            script_file: argv.script_file.clone(),
        };
        let c = self
            .ex
            .create_run(&st.image, &step)
            .map_err(BuildError::Executor)?;
        let cid = self.ex.container_id(&c);
        self.say(format!(" ---> Running in {}\n", short_id(&cid)));
        let started = {
            let progress = &mut *self.progress;
            // stderr in red, as dockerd's stderr formatter writes it.
            let mut out = |stderr: bool, b: &[u8]| {
                let text = String::from_utf8_lossy(b);
                progress(Progress::Stream(if stderr {
                    format!("\u{1b}[91m{text}\u{1b}[0m")
                } else {
                    text.into_owned()
                }))
            };
            self.ex.start(&c, &mut out)
        };
        let failure = match started {
            Ok(0) => None,
            Ok(code) => Some(BuildError::NonZero {
                command: argv.args.join(" "),
                code,
            }),
            Err(e) => Some(BuildError::Executor(e)),
        };
        if let Some(err) = failure {
            // `rm` removes only after success (docker's documented rule); `forcerm`
            // always; a cancelled build never leaves its container.
            if self.settings.force_remove || (self.cancelled)() {
                self.remove_container(c, true);
            }
            return Err(err);
        }
        self.commit_container(st, c, &created_by, &key, true)
    }
}
