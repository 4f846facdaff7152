//! One instruction: expanded against the stage's variables, then sent to the step that
//! does it (RUN, COPY/ADD, WORKDIR's directory, ARG, or a config-only commit).

use super::copy::copy_dest;
use super::{BuildError, Builder, Res, StageState};
use crate::config::nop_created_by;
use crate::copy::is_remote;
use crate::executor::{CacheKey, CopySource, CopyStep, Executor};
use crate::expand::run_mounts;
use crate::instructions::{Command, Instruction};

impl<X: Executor> Builder<'_, X> {
    pub(super) fn dispatch(&mut self, st: &mut StageState, ins: &Instruction) -> Res<(), X> {
        // `--label`s are taken as given; everything else is expanded first.
        let expanded = match &ins.command {
            Command::Arg(_) => ins.command.clone(),
            Command::Label(_) if ins.line == 0 => ins.command.clone(),
            other => st.vars.expand(other)?,
        };
        match &expanded {
            Command::Run(run) => {
                // Mounts are expanded from the instruction as written.
                let Command::Run(raw) = &ins.command else {
                    return Ok(());
                };
                let mounts = run_mounts(raw, self.escape, &st.vars)?;
                self.run_step(st, run, mounts)
            }
            Command::Copy(c) => {
                let from = match &c.from {
                    None => CopySource::Context,
                    Some(f) => self.copy_source(f)?,
                };
                let step = CopyStep {
                    from,
                    sources: c.paths.sources.clone(),
                    contents: c.paths.contents.clone(),
                    dest: copy_dest(&st.config.config.working_dir, &c.paths)?,
                    chown: c.chown.clone(),
                    chmod: c.chmod.clone(),
                    unpack_archives: false,
                    excludes: c.excludes.clone(),
                    parents: c.parents,
                };
                self.copy_commit(st, "COPY", step)
            }
            Command::Add(a) => {
                if let Some(r) = a.paths.sources.iter().find(|s| is_remote(s)) {
                    return Err(BuildError::Remote(r.clone()));
                }
                let step = CopyStep {
                    from: CopySource::Context,
                    sources: a.paths.sources.clone(),
                    contents: a.paths.contents.clone(),
                    dest: copy_dest(&st.config.config.working_dir, &a.paths)?,
                    chown: a.chown.clone(),
                    chmod: a.chmod.clone(),
                    unpack_archives: a.unpack.unwrap_or(true),
                    excludes: a.excludes.clone(),
                    parents: false,
                };
                self.copy_commit(st, "ADD", step)
            }
            Command::Arg(decls) => {
                st.vars.declare_args(decls)?;
                let mut text = String::from("ARG");
                for d in decls {
                    text.push(' ');
                    text.push_str(&d.key);
                    if let Some(v) = &d.value {
                        text.push('=');
                        text.push_str(v);
                    }
                }
                self.config_commit(st, &text)
            }
            Command::Workdir(_) => {
                let Some(comment) = st.config.apply(&expanded)? else {
                    return Ok(());
                };
                // WORKDIR makes its directory in a layer, as dockerd does.
                let created_by = nop_created_by(&st.config.shell(), &comment);
                let key = CacheKey::new(&st.image, &created_by, None);
                if self.probe(st, &key)? {
                    return Ok(());
                }
                let step = CopyStep {
                    from: CopySource::Context,
                    sources: Vec::new(),
                    contents: Vec::new(),
                    dest: format!("{}/", st.config.config.working_dir.trim_end_matches('/')),
                    chown: None,
                    chmod: None,
                    unpack_archives: false,
                    excludes: Vec::new(),
                    parents: false,
                };
                let c = self
                    .ex
                    .copy(&st.image, &step)
                    .map_err(BuildError::Executor)?;
                self.commit_container(st, c, &created_by, &key, false)
            }
            other => {
                if let Command::Env(kvs) = other {
                    for kv in kvs {
                        st.vars.set_env(&kv.key, &kv.value);
                    }
                }
                match st.config.apply(other)? {
                    Some(comment) => self.config_commit(st, &comment),
                    None => Ok(()),
                }
            }
        }
    }
}
