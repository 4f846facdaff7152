//! The builder loop against a small in-memory executor: images are maps of files, a RUN
//! is a tiny interpreter (`echo`, `exit N`, `write PATH TEXT`), the context is a map.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use super::*;
use crate::executor::{CacheKey, CopySource, CopyStep, HealthConfig, ImageConfig, RunStep};
use crate::{BuildOptions, parse, plan};

#[derive(Debug, Clone)]
struct MemImage {
    files: BTreeMap<String, String>,
    config: ImageConfig,
    history: Vec<String>,
}

#[derive(Debug)]
struct MemContainer {
    id: String,
    files: BTreeMap<String, String>,
    args: Vec<String>,
    env: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("mem: {0}")]
struct MemError(String);

#[derive(Default)]
struct Mem {
    images: BTreeMap<String, MemImage>,
    tags: BTreeMap<String, String>,
    cache: BTreeMap<String, String>,
    context: BTreeMap<String, String>,
    live: BTreeSet<String>,
    next: u64,
    runs: Vec<Vec<String>>,
    copies: Vec<CopyStep>,
}

fn hash(s: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(s.as_bytes())))
}

impl Mem {
    fn new() -> Self {
        let mut m = Mem::default();
        m.images.insert(
            hash("busybox"),
            MemImage {
                files: BTreeMap::from([("/bin/sh".into(), "sh".into())]),
                config: ImageConfig {
                    env: vec!["PATH=/bin".into()],
                    cmd: Some(vec!["sh".into()]),
                    ..Default::default()
                },
                history: vec!["busybox".into()],
            },
        );
        m.tags.insert("busybox".into(), hash("busybox"));
        m
    }

    fn image(&self, id: &str) -> Result<&MemImage, MemError> {
        self.images
            .get(id)
            .ok_or_else(|| MemError(format!("no image {id}")))
    }

    fn container(&mut self, parent: &str, args: Vec<String>, env: Vec<String>) -> MemContainer {
        let files = self
            .images
            .get(parent)
            .map(|i| i.files.clone())
            .unwrap_or_default();
        self.next += 1;
        let id = format!("{:064x}", self.next);
        self.live.insert(id.clone());
        MemContainer {
            id,
            files,
            args,
            env,
        }
    }
}

impl Executor for Mem {
    type Error = MemError;
    type Container = std::cell::RefCell<MemContainer>;

    fn resolve(
        &mut self,
        reference: &str,
        _: Option<&crate::Platform>,
        _: &mut dyn FnMut(&str),
    ) -> Result<BaseImage, MemError> {
        let id = self
            .tags
            .get(reference)
            .or_else(|| self.tags.get(&format!("{reference}:latest")))
            .cloned()
            .ok_or_else(|| MemError(format!("pull access denied for {reference}")))?;
        Ok(BaseImage {
            config: self.image(&id)?.config.clone(),
            id,
        })
    }

    fn scratch(&mut self) -> Result<BaseImage, MemError> {
        self.images.entry(String::new()).or_insert(MemImage {
            files: BTreeMap::new(),
            config: ImageConfig::default(),
            history: Vec::new(),
        });
        Ok(BaseImage {
            id: String::new(),
            config: ImageConfig::default(),
        })
    }

    fn cached(&mut self, key: &CacheKey) -> Result<Option<String>, MemError> {
        Ok(self.cache.get(&key.digest()).cloned())
    }

    fn create_run(&mut self, parent: &str, step: &RunStep) -> Result<Self::Container, MemError> {
        self.runs.push(step.args.clone());
        Ok(std::cell::RefCell::new(self.container(
            parent,
            step.args.clone(),
            step.env.clone(),
        )))
    }

    fn container_id(&self, c: &Self::Container) -> String {
        c.borrow().id.clone()
    }

    fn start(
        &mut self,
        c: &Self::Container,
        output: &mut dyn FnMut(bool, &[u8]),
    ) -> Result<i32, MemError> {
        let mut c = c.borrow_mut();
        let script = c.args.last().cloned().unwrap_or_default();
        for cmd in script.split("&&").map(str::trim) {
            let words: Vec<&str> = cmd.split_whitespace().collect();
            match words.as_slice() {
                ["echo", rest @ ..] => {
                    // `$NAME` from the step's env, as a shell would.
                    let text: Vec<String> = rest
                        .iter()
                        .map(|w| match w.strip_prefix('$') {
                            Some(n) => c
                                .env
                                .iter()
                                .find_map(|e| e.strip_prefix(&format!("{n}=")))
                                .unwrap_or("")
                                .to_string(),
                            None => w.to_string(),
                        })
                        .collect();
                    output(false, format!("{}\n", text.join(" ")).as_bytes());
                }
                ["warn", text] => output(true, format!("{text}\n").as_bytes()),
                ["exit", code] => return Ok(code.parse().unwrap_or(1)),
                ["write", path, text] => {
                    c.files.insert(path.to_string(), text.to_string());
                }
                _ => {}
            }
        }
        Ok(0)
    }

    fn source_digest(&mut self, parent: &str, step: &CopyStep) -> Result<String, MemError> {
        let mut text = String::new();
        for s in &step.sources {
            let files = match &step.from {
                CopySource::Context => &self.context,
                CopySource::Stage(id) | CopySource::Image(id) => &self.image(id)?.files,
            };
            let v = files
                .get(s)
                .ok_or_else(|| MemError(format!("{s} not found from {parent}")))?;
            text.push_str(&format!("{s}={v};"));
        }
        Ok(format!(
            "file:{}",
            hash(&text).trim_start_matches("sha256:")
        ))
    }

    fn copy(&mut self, parent: &str, step: &CopyStep) -> Result<Self::Container, MemError> {
        self.copies.push(step.clone());
        let c = self.container(parent, Vec::new(), Vec::new());
        let mut files = c.files.clone();
        for s in &step.sources {
            let from = match &step.from {
                CopySource::Context => &self.context,
                CopySource::Stage(id) | CopySource::Image(id) => &self.image(id)?.files,
            };
            let v = from.get(s).cloned().ok_or_else(|| MemError(s.clone()))?;
            let name = s.rsplit('/').next().unwrap_or(s);
            let dest = if step.dest.ends_with('/') {
                format!("{}{name}", step.dest)
            } else {
                step.dest.clone()
            };
            files.insert(dest, v);
        }
        for f in &step.contents {
            let dest = if step.dest.ends_with('/') {
                format!("{}{}", step.dest, f.name)
            } else {
                step.dest.clone()
            };
            files.insert(dest, f.data.clone());
        }
        if step.sources.is_empty() && step.contents.is_empty() {
            files.insert(step.dest.clone(), "<dir>".into());
        }
        let c = MemContainer { files, ..c };
        Ok(std::cell::RefCell::new(c))
    }

    fn commit(
        &mut self,
        parent: &str,
        container: Option<&Self::Container>,
        config: &ImageConfig,
        created_by: &str,
        key: &CacheKey,
    ) -> Result<String, MemError> {
        let base = self.image(parent)?.clone();
        let files = container.map_or(base.files.clone(), |c| c.borrow().files.clone());
        let mut history = base.history.clone();
        history.push(created_by.to_string());
        let id = hash(&format!(
            "{parent}|{created_by}|{:?}|{files:?}|{config:?}",
            key.content
        ));
        self.images.insert(
            id.clone(),
            MemImage {
                files,
                config: config.clone(),
                history,
            },
        );
        self.cache.insert(key.digest(), id.clone());
        Ok(id)
    }

    fn remove(&mut self, c: Self::Container) -> Result<(), MemError> {
        self.live.remove(&c.borrow().id);
        Ok(())
    }

    fn tag(&mut self, image: &str, tags: &[String]) -> Result<Vec<String>, MemError> {
        let mut out = Vec::new();
        for t in tags {
            let name = if t.contains(':') {
                t.clone()
            } else {
                format!("{t}:latest")
            };
            self.tags.insert(name.clone(), image.to_string());
            out.push(name);
        }
        Ok(out)
    }
}

struct Outcome {
    result: Result<Built, String>,
    stream: String,
    aux: Vec<String>,
}

fn run_build(
    mem: &mut Mem,
    dockerfile: &str,
    opts: &BuildOptions,
    settings: &BuildSettings,
    cancel_after: Option<usize>,
) -> Outcome {
    let df = parse(dockerfile).unwrap();
    let plan = plan(&df, opts).unwrap();
    let mut stream = String::new();
    let mut aux = Vec::new();
    let steps = Cell::new(0usize);
    let result = build(
        mem,
        &df,
        &plan,
        settings,
        &mut |p| match p {
            Progress::Stream(s) => {
                if s.starts_with("Step ") {
                    steps.set(steps.get() + 1);
                }
                stream.push_str(&s)
            }
            Progress::Aux(id) => aux.push(id),
        },
        &|| cancel_after.is_some_and(|n| steps.get() >= n),
    )
    .map_err(|e| e.to_string());
    Outcome {
        result,
        stream,
        aux,
    }
}

fn tagged(t: &str) -> BuildSettings {
    BuildSettings {
        tags: vec![t.into()],
        ..Default::default()
    }
}

const SIMPLE: &str =
    "FROM busybox\nENV A=1\nCOPY a.txt /app/\nRUN echo hi $A && write /out done\nCMD [\"sh\"]\n";

#[test]
fn stream_lines_history_and_cleanup_as_dockerd() {
    let mut m = Mem::new();
    m.context.insert("a.txt".into(), "alpha".into());
    let o = run_build(&mut m, SIMPLE, &BuildOptions::default(), &tagged("x"), None);
    let built = o.result.unwrap();
    let lines: Vec<&str> = o.stream.lines().collect();
    let busy = short_id(&hash("busybox")).to_string();
    assert_eq!(lines[0], "Step 1/5 : FROM busybox");
    assert_eq!(lines[1], format!(" ---> {busy}"));
    assert_eq!(lines[2], "Step 2/5 : ENV A=1");
    assert!(lines[3].starts_with(" ---> ") && lines[3].len() == 18);
    assert_eq!(lines[4], "Step 3/5 : COPY a.txt /app/");
    assert_eq!(lines[6], "Step 4/5 : RUN echo hi $A && write /out done");
    assert!(lines[7].starts_with(" ---> Running in "));
    let cid = lines[7].trim_start_matches(" ---> Running in ");
    assert_eq!(lines[8], "hi 1");
    // stderr is red, as dockerd's stderr formatter writes it
    let mut m2 = Mem::new();
    let o2 = run_build(
        &mut m2,
        "FROM busybox\nRUN warn oops\n",
        &BuildOptions::default(),
        &BuildSettings::default(),
        None,
    );
    assert!(
        o2.stream.contains("\u{1b}[91moops\n\u{1b}[0m"),
        "{}",
        o2.stream
    );
    assert_eq!(
        lines[9],
        format!(" ---> Removed intermediate container {cid}")
    );
    assert_eq!(lines[11], "Step 5/5 : CMD [\"sh\"]");
    let short = short_id(&built.id).to_string();
    assert_eq!(lines[12], format!(" ---> {short}"));
    assert_eq!(lines[13], format!("Successfully built {short}"));
    assert_eq!(lines[14], "Successfully tagged x:latest");
    assert_eq!(lines.len(), 15);
    assert_eq!(o.aux, vec![built.id.clone()]);
    assert!(m.live.is_empty(), "containers left: {:?}", m.live);
    let img = &m.images[&built.id];
    assert_eq!(img.files["/app/a.txt"], "alpha");
    assert_eq!(img.files["/out"], "done");
    assert_eq!(img.config.env, vec!["PATH=/bin", "A=1"]);
    // One history entry per instruction, dockerd's texts.
    assert_eq!(img.history.len(), 5);
    assert_eq!(img.history[1], "/bin/sh -c #(nop)  ENV A=1");
    assert!(img.history[2].starts_with("/bin/sh -c #(nop)  COPY file:"));
    assert!(img.history[2].ends_with(" in /app/ "));
    assert_eq!(img.history[3], "/bin/sh -c echo hi $A && write /out done");
    assert_eq!(img.history[4], "/bin/sh -c #(nop)  CMD [\"sh\"]");
    assert_eq!(m.tags["x:latest"], built.id);
}

#[test]
fn rebuild_hits_the_cache_and_a_changed_file_misses_from_its_step_on() {
    let mut m = Mem::new();
    m.context.insert("a.txt".into(), "alpha".into());
    let first = run_build(&mut m, SIMPLE, &BuildOptions::default(), &tagged("x"), None);
    let first_id = first.result.unwrap().id;
    let runs = m.runs.len();
    let again = run_build(&mut m, SIMPLE, &BuildOptions::default(), &tagged("x"), None);
    assert_eq!(again.result.unwrap().id, first_id);
    assert_eq!(again.stream.matches(" ---> Using cache").count(), 4);
    assert!(!again.stream.contains("Running in"));
    assert_eq!(m.runs.len(), runs);

    m.context.insert("a.txt".into(), "ALPHA".into());
    let changed = run_build(&mut m, SIMPLE, &BuildOptions::default(), &tagged("x"), None);
    assert_ne!(changed.result.unwrap().id, first_id);
    // ENV (before the COPY) is cached; COPY, RUN and CMD are not.
    assert_eq!(changed.stream.matches(" ---> Using cache").count(), 1);
    let env_at = changed.stream.find("ENV A=1").unwrap();
    let copy_at = changed.stream.find("COPY a.txt").unwrap();
    assert!(changed.stream[env_at..copy_at].contains("Using cache"));
    assert_eq!(m.runs.len(), runs + 1);

    // --no-cache probes nothing.
    let nc = BuildSettings {
        no_cache: true,
        ..tagged("x")
    };
    let fresh = run_build(&mut m, SIMPLE, &BuildOptions::default(), &nc, None);
    assert!(fresh.result.is_ok());
    assert!(!fresh.stream.contains("Using cache"));
}

#[test]
fn build_args_reach_run_and_its_cache_key() {
    let df = "FROM busybox\nARG V=one\nRUN echo $V\n";
    let mut m = Mem::new();
    let a = run_build(
        &mut m,
        df,
        &BuildOptions::default(),
        &BuildSettings::default(),
        None,
    );
    assert!(a.stream.contains("\none\n"));
    let id_a = a.result.unwrap().id;
    assert_eq!(m.images[&id_a].history[2], "|1 V=one /bin/sh -c echo $V");
    assert_eq!(m.images[&id_a].history[1], "/bin/sh -c #(nop)  ARG V=one");
    let mut opts = BuildOptions::default();
    opts.build_args.insert("V".into(), "two".into());
    opts.build_args.insert("UNUSED".into(), "x".into());
    let b = run_build(&mut m, df, &opts, &BuildSettings::default(), None);
    assert!(b.stream.contains("\ntwo\n"));
    // ARG's own step is cached (same text), the RUN is not.
    assert_eq!(b.stream.matches("Using cache").count(), 1);
    assert!(
        b.stream
            .contains("[Warning] One or more build-args [UNUSED] were not consumed\n")
    );
    assert_ne!(b.result.unwrap().id, id_a);
}

#[test]
fn failing_run_reports_dockerd_message_and_rm_rules() {
    let df = "FROM busybox\nRUN exit 3\n";
    let mut m = Mem::new();
    let o = run_build(
        &mut m,
        df,
        &BuildOptions::default(),
        &BuildSettings::default(),
        None,
    );
    assert_eq!(
        o.result.unwrap_err(),
        "The command '/bin/sh -c exit 3' returned a non-zero code: 3"
    );
    // `rm` alone keeps the failed container (docker's documented rule)...
    assert_eq!(m.live.len(), 1);
    assert!(!o.stream.contains("Successfully built"));
    // ...`forcerm` removes it.
    let mut m = Mem::new();
    let force = BuildSettings {
        force_remove: true,
        ..Default::default()
    };
    let o = run_build(&mut m, df, &BuildOptions::default(), &force, None);
    assert!(o.result.is_err());
    assert!(m.live.is_empty());
    assert!(o.stream.contains(" ---> Removed intermediate container "));
    // `rm=false` keeps successful ones too.
    let mut m = Mem::new();
    let keep = BuildSettings {
        remove: false,
        ..Default::default()
    };
    let o = run_build(
        &mut m,
        "FROM busybox\nRUN echo a\n",
        &BuildOptions::default(),
        &keep,
        None,
    );
    assert!(o.result.is_ok());
    assert_eq!(m.live.len(), 1);
    assert!(!o.stream.contains("Removed intermediate"));
}

#[test]
fn multi_stage_copy_from_target_and_labels() {
    let df = "FROM busybox AS build\nRUN write /bin/app built\n\
              FROM busybox AS unused\nRUN write /x y\n\
              FROM scratch\nCOPY --from=build /bin/app /app\nENTRYPOINT [\"/app\"]\n";
    let mut m = Mem::new();
    let settings = BuildSettings {
        labels: BTreeMap::from([
            ("b".to_string(), "$NOT".to_string()),
            ("a".into(), "1".into()),
        ]),
        ..tagged("multi:v1")
    };
    let o = run_build(&mut m, df, &BuildOptions::default(), &settings, None);
    let built = o.result.unwrap();
    // The unused stage is skipped; the labels make one more step.
    assert!(!o.stream.contains("write /x y"));
    assert!(o.stream.contains("Step 1/6 : FROM busybox AS build\n"));
    assert!(
        o.stream
            .contains("Step 6/6 : LABEL \"a\"=\"1\" \"b\"=\"$NOT\"\n")
    );
    assert_eq!(o.aux.len(), 2);
    let img = &m.images[&built.id];
    assert_eq!(img.files["/app"], "built");
    assert_eq!(img.files.len(), 1, "scratch + one file: {:?}", img.files);
    assert_eq!(img.config.entrypoint, Some(vec!["/app".to_string()]));
    assert_eq!(img.config.labels["b"], "$NOT");
    let from_build = m.copies.iter().find(|c| c.dest == "/app").unwrap();
    assert_eq!(from_build.from, CopySource::Stage(o.aux[0].clone()));
    // --target stops at the named stage.
    let opts = BuildOptions {
        target: Some("build".into()),
        ..Default::default()
    };
    let t = run_build(&mut m, df, &opts, &BuildSettings::default(), None);
    assert_eq!(t.result.unwrap().id, o.aux[0]);
    assert!(t.stream.contains("Step 2/2 : RUN write /bin/app built\n"));
}

#[test]
fn onbuild_triggers_run_first_and_are_not_inherited() {
    let mut m = Mem::new();
    let base = "FROM busybox\nONBUILD RUN write /triggered yes\nONBUILD ENV T=1\n";
    let b = run_build(
        &mut m,
        base,
        &BuildOptions::default(),
        &tagged("base"),
        None,
    );
    assert!(b.result.is_ok());
    let o = run_build(
        &mut m,
        "FROM base\nRUN echo $T\n",
        &BuildOptions::default(),
        &BuildSettings::default(),
        None,
    );
    let built = o.result.unwrap();
    assert!(o.stream.contains("# Executing 2 build triggers\n"));
    assert!(o.stream.contains("\n1\n"), "{}", o.stream);
    let img = &m.images[&built.id];
    assert_eq!(img.files["/triggered"], "yes");
    assert!(img.config.on_build.is_empty());
}

#[test]
fn workdir_user_healthcheck_heredoc_and_remote_add() {
    let df = "FROM busybox\nWORKDIR /srv\nUSER nobody\nCOPY <<EOF conf\nhello\nEOF\n\
              HEALTHCHECK --interval=5s CMD true\n";
    let mut m = Mem::new();
    let o = run_build(
        &mut m,
        df,
        &BuildOptions::default(),
        &BuildSettings::default(),
        None,
    );
    let built = o.result.unwrap();
    let img = &m.images[&built.id];
    assert_eq!(img.files["/srv/"], "<dir>");
    assert_eq!(img.files["/srv/conf"], "hello\n");
    assert_eq!(img.config.user, "nobody");
    assert_eq!(img.config.working_dir, "/srv");
    let hc: &HealthConfig = img.config.healthcheck.as_ref().unwrap();
    assert_eq!(hc.test, vec!["CMD-SHELL", "true"]);
    assert!(m.live.is_empty());

    let o = run_build(
        &mut m,
        "FROM busybox\nADD https://example.com/x /x\n",
        &BuildOptions::default(),
        &BuildSettings::default(),
        None,
    );
    assert!(o.result.unwrap_err().contains("https://example.com/x"));
}

#[test]
fn cancel_between_steps_stops_and_leaves_no_container() {
    let df = "FROM busybox\nRUN echo a\nRUN echo b\nRUN echo c\n";
    let mut m = Mem::new();
    let o = run_build(
        &mut m,
        df,
        &BuildOptions::default(),
        &BuildSettings::default(),
        Some(2),
    );
    assert_eq!(o.result.unwrap_err(), "Build cancelled");
    assert!(o.stream.ends_with("Build cancelled\n"));
    assert!(!o.stream.contains("echo b"));
    assert!(m.live.is_empty());
}

#[test]
fn short_ids() {
    assert_eq!(short_id("sha256:0123456789abcdef"), "0123456789ab");
    assert_eq!(short_id("abc"), "abc");
    assert_eq!(short_id(""), "");
}
