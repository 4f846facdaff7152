//! The evaluator: walks a parsed tree over a JSON value with Go's semantics (dot, `$`,
//! variable scopes, `range` over lists, sorted maps and integers, `break`/`continue`,
//! `<no value>` for a missing key, errors naming the node as Go does).

use serde_json::Value;

use super::funcs::{FuncError, call, truth};
use super::parse::{Arg, ArgKind, Branch, Cmd, Node, Num, Pipe, Tree};
use super::printf::{Val, go_print, go_type};

/// Nested `{{template}}` calls allowed before giving up (Go allows 100000 on its growable
/// stacks; a thread stack here holds about a hundred).
const MAX_DEPTH: usize = 100;

/// An execution failure at a node.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecError {
    pub pos: usize,
    pub node: String,
    pub msg: String,
}

/// The key (index) and element of a range's i-th iteration.
type RangeItem = Box<dyn Fn(usize) -> (Value, Value)>;

enum Flow {
    Normal,
    Break,
    Continue,
}

struct State<'a> {
    tree: &'a Tree,
    vars: Vec<(String, Val)>,
    out: String,
    header: bool,
    missing_key_error: bool,
    row_type: Option<&'static str>,
    root: Value,
    depth: usize,
}

type XResult<T> = Result<T, ExecError>;

/// Runs a template over `data`. In `header` mode docker's functions return their first
/// argument (docker renders table headers that way).
pub fn execute(
    tree: &Tree,
    data: &Value,
    header: bool,
    missing_key_error: bool,
    row_type: Option<&'static str>,
) -> XResult<String> {
    let dot = Some(data.clone());
    let mut s = State {
        tree,
        vars: vec![("$".into(), dot.clone())],
        out: String::new(),
        header,
        missing_key_error,
        row_type,
        root: data.clone(),
        depth: 0,
    };
    s.walk_list(&dot, &tree.root)?;
    Ok(s.out)
}

fn err<T>(pos: usize, node: impl Into<String>, msg: impl Into<String>) -> XResult<T> {
    Err(ExecError {
        pos,
        node: node.into(),
        msg: msg.into(),
    })
}

/// How an action prints its value.
fn print_value(v: &Val) -> String {
    match v {
        None => "<no value>".into(),
        Some(v) => go_print(v),
    }
}

fn constant(kind: &ArgKind) -> Val {
    match kind {
        ArgKind::Bool(b) => Some(Value::Bool(*b)),
        ArgKind::Num(Num::Int(i)) => Some(Value::from(*i)),
        ArgKind::Num(Num::Float(f)) => Some(Value::from(*f)),
        ArgKind::Str(s) => Some(Value::String(s.clone())),
        _ => Some(Value::Null),
    }
}

impl State<'_> {
    fn walk_list(&mut self, dot: &Val, nodes: &[Node]) -> XResult<Flow> {
        for n in nodes {
            match self.walk(dot, n)? {
                Flow::Normal => {}
                f => return Ok(f),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Val, node: &Node) -> XResult<Flow> {
        match node {
            Node::Text(t) => self.out.push_str(t),
            Node::Action(pipe) => {
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.out.push_str(&print_value(&v));
                }
            }
            Node::Branch {
                kind: Branch::Range,
                pipe,
                list,
                else_list,
            } => return self.walk_range(dot, pipe, list, else_list.as_deref()),
            Node::Branch {
                kind,
                pipe,
                list,
                else_list,
            } => {
                let mark = self.vars.len();
                let v = self.eval_pipeline(dot, pipe)?;
                let flow = if truth(&v) {
                    let inner = if *kind == Branch::With { &v } else { dot };
                    self.walk_list(inner, list)?
                } else if let Some(e) = else_list {
                    self.walk_list(dot, e)?
                } else {
                    Flow::Normal
                };
                self.vars.truncate(mark);
                return Ok(flow);
            }
            Node::Template { name, pipe, pos } => {
                let Some(body) = self.tree.defines.get(name) else {
                    return err(
                        *pos,
                        format!("template {name:?}"),
                        format!("no such template {name:?}"),
                    );
                };
                if self.depth >= MAX_DEPTH {
                    return err(
                        *pos,
                        format!("template {name:?}"),
                        format!("exceeded maximum template depth ({MAX_DEPTH})"),
                    );
                }
                let new_dot = match pipe {
                    Some(p) => self.eval_pipeline(dot, p)?,
                    None => None,
                };
                let saved = std::mem::replace(&mut self.vars, vec![("$".into(), new_dot.clone())]);
                self.depth += 1;
                let r = self.walk_list(&new_dot, body);
                self.depth -= 1;
                self.vars = saved;
                r?;
            }
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn walk_range(
        &mut self,
        dot: &Val,
        pipe: &Pipe,
        list: &[Node],
        else_list: Option<&[Node]>,
    ) -> XResult<Flow> {
        let mark = self.vars.len();
        let v = self.eval_pipeline(dot, pipe)?;
        // Items are made as the loop goes: `range 1000000000` must not build a list first.
        let (count, item): (usize, RangeItem) = match &v {
            None | Some(Value::Null) => (0, Box::new(|_| (Value::Null, Value::Null))),
            Some(Value::Array(a)) => {
                let a = a.clone();
                (a.len(), Box::new(move |i| (Value::from(i), a[i].clone())))
            }
            Some(Value::Object(o)) => {
                let mut keys: Vec<String> = o.keys().cloned().collect();
                keys.sort();
                let o = o.clone();
                (
                    keys.len(),
                    Box::new(move |i| (Value::String(keys[i].clone()), o[&keys[i]].clone())),
                )
            }
            Some(Value::Number(n)) if n.is_i64() => {
                if pipe.decl.len() > 1 {
                    return err(
                        pipe.pos,
                        pipe.src(),
                        format!("can't use {n} to iterate over more than one variable"),
                    );
                }
                let n = usize::try_from(n.as_i64().unwrap_or(0)).unwrap_or(0);
                (n, Box::new(|i| (Value::from(i), Value::from(i))))
            }
            Some(other) => {
                return err(
                    pipe.pos,
                    pipe.src(),
                    format!("range can't iterate over {}", go_print(other)),
                );
            }
        };
        if count == 0 {
            let flow = match else_list {
                Some(e) => self.walk_list(dot, e)?,
                None => Flow::Normal,
            };
            self.vars.truncate(mark);
            return Ok(flow);
        }
        for i in 0..count {
            let (key, elem) = item(i);
            let inner = self.vars.len();
            match pipe.decl.as_slice() {
                [one] => self.set_var(one, Some(elem.clone())),
                [k, e] => {
                    self.set_var(k, Some(key));
                    self.set_var(e, Some(elem.clone()));
                }
                _ => {}
            }
            let flow = self.walk_list(&Some(elem), list)?;
            self.vars.truncate(inner);
            if let Flow::Break = flow {
                break;
            }
        }
        self.vars.truncate(mark);
        Ok(Flow::Normal)
    }

    fn set_var(&mut self, name: &str, v: Val) {
        if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            slot.1 = v;
        }
    }

    fn var(&self, name: &str, arg: &Arg) -> XResult<Val> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => err(arg.pos, &arg.src, format!("undefined variable: {name}")),
        }
    }

    fn eval_pipeline(&mut self, dot: &Val, pipe: &Pipe) -> XResult<Val> {
        let mut value: Option<Val> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let v = value.unwrap_or(None);
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, v.clone());
            } else {
                self.vars.push((name.clone(), v.clone()));
            }
        }
        Ok(v)
    }

    fn not_a_function(&self, cmd: &Cmd, final_: &Option<Val>) -> XResult<()> {
        if cmd.args.len() > 1 || final_.is_some() {
            let first = &cmd.args[0];
            return err(
                first.pos,
                &first.src,
                format!("can't give argument to non-function {}", first.src),
            );
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Val, cmd: &Cmd, final_: Option<Val>) -> XResult<Val> {
        let first = &cmd.args[0];
        let rest = &cmd.args[1..];
        match &first.kind {
            ArgKind::Field(path) => self.eval_chain(dot, dot.clone(), path, first, rest, final_),
            ArgKind::Chain(inner, path) => {
                let recv = self.eval_arg(dot, inner)?;
                self.eval_chain(dot, recv, path, first, rest, final_)
            }
            ArgKind::Var(name, path) => {
                let v = self.var(name, first)?;
                if path.is_empty() {
                    self.not_a_function(cmd, &final_)?;
                    return Ok(v);
                }
                self.eval_chain(dot, v, path, first, rest, final_)
            }
            ArgKind::Ident(name) => self.eval_function(dot, name, rest, final_, cmd),
            ArgKind::Pipe(p) => {
                self.not_a_function(cmd, &final_)?;
                self.eval_pipeline(dot, p)
            }
            ArgKind::Dot => {
                self.not_a_function(cmd, &final_)?;
                Ok(dot.clone())
            }
            ArgKind::Nil => err(first.pos, &first.src, "nil is not a command"),
            k => {
                self.not_a_function(cmd, &final_)?;
                Ok(constant(k))
            }
        }
    }

    fn eval_arg(&mut self, dot: &Val, arg: &Arg) -> XResult<Val> {
        match &arg.kind {
            ArgKind::Dot => Ok(dot.clone()),
            ArgKind::Field(path) => self.eval_chain(dot, dot.clone(), path, arg, &[], None),
            ArgKind::Var(name, path) => {
                let v = self.var(name, arg)?;
                if path.is_empty() {
                    return Ok(v);
                }
                self.eval_chain(dot, v, path, arg, &[], None)
            }
            ArgKind::Pipe(p) => self.eval_pipeline(dot, p),
            ArgKind::Chain(inner, path) => {
                let recv = self.eval_arg(dot, inner)?;
                self.eval_chain(dot, recv, path, arg, &[], None)
            }
            ArgKind::Ident(name) => {
                let cmd = Cmd {
                    args: vec![arg.clone()],
                    pos: arg.pos,
                };
                self.eval_function(dot, name, &[], None, &cmd)
            }
            k => Ok(constant(k)),
        }
    }

    fn eval_chain(
        &mut self,
        dot: &Val,
        mut receiver: Val,
        path: &[String],
        node: &Arg,
        args: &[Arg],
        final_: Option<Val>,
    ) -> XResult<Val> {
        let Some((last, init)) = path.split_last() else {
            return Ok(receiver);
        };
        for name in init {
            receiver = self.eval_field(dot, receiver, name, node, &[], None)?;
        }
        self.eval_field(dot, receiver, last, node, args, final_)
    }

    fn eval_field(
        &mut self,
        dot: &Val,
        receiver: Val,
        name: &str,
        node: &Arg,
        args: &[Arg],
        final_: Option<Val>,
    ) -> XResult<Val> {
        let has_args = !args.is_empty() || final_.is_some();
        match receiver {
            None if self.missing_key_error => err(
                node.pos,
                &node.src,
                format!("nil data; no entry for key {name:?}"),
            ),
            None => Ok(None),
            Some(Value::Object(m)) => {
                if has_args && self.header {
                    // docker's header `Label "com.x.my-key"` is `my key`.
                    if let (true, Some(a)) = (name == "Label", args.first()) {
                        let key = super::printf::print_val(&self.eval_arg(dot, a)?);
                        let last = key.rsplit('.').next().unwrap_or("");
                        return Ok(Some(Value::String(last.replace(['-', '_'], " "))));
                    }
                    return Ok(m.get(name).cloned());
                }
                if has_args {
                    // docker's list rows have a `Label "key"` method over their labels.
                    if name == "Label" && !m.contains_key("Label") {
                        let mut vals = Vec::new();
                        for a in args {
                            vals.push(self.eval_arg(dot, a)?);
                        }
                        vals.extend(final_);
                        return match vals.as_slice() {
                            [Some(Value::String(k))] => Ok(Some(Value::String(label(&m, k)))),
                            _ => err(
                                node.pos,
                                &node.src,
                                format!(
                                    "wrong number of args for Label: want 1 got {}",
                                    vals.len()
                                ),
                            ),
                        };
                    }
                    return err(
                        node.pos,
                        &node.src,
                        format!("{name} is not a method but has arguments"),
                    );
                }
                match m.get(name) {
                    None if self.row_type.is_some() && self.root.as_object() == Some(&m) => err(
                        node.pos,
                        &node.src,
                        format!(
                            "can't evaluate field {name} in type {}",
                            self.row_type.unwrap_or_default()
                        ),
                    ),
                    None if self.missing_key_error && looks_like_struct(&m) => err(
                        node.pos,
                        &node.src,
                        format!("map has no entry for key {name:?}"),
                    ),
                    v => Ok(v.cloned()),
                }
            }
            Some(Value::Null) => err(
                node.pos,
                &node.src,
                format!("nil pointer evaluating interface {{}}.{name}"),
            ),
            other => err(
                node.pos,
                &node.src,
                format!("can't evaluate field {name} in type {}", go_type(&other)),
            ),
        }
    }

    fn eval_function(
        &mut self,
        dot: &Val,
        name: &str,
        args: &[Arg],
        final_: Option<Val>,
        cmd: &Cmd,
    ) -> XResult<Val> {
        if name == "and" || name == "or" {
            if args.is_empty() && final_.is_none() {
                return err(
                    cmd.pos,
                    cmd.src(),
                    format!("wrong number of args for {name}: want at least 1 got 0"),
                );
            }
            let mut v = None;
            for a in args {
                v = self.eval_arg(dot, a)?;
                if truth(&v) == (name == "or") {
                    return Ok(v);
                }
            }
            return Ok(final_.unwrap_or(v));
        }
        let mut vals = Vec::with_capacity(args.len() + 1);
        for a in args {
            vals.push(self.eval_arg(dot, a)?);
        }
        vals.extend(final_);
        call(name, &vals, self.header).or_else(|e| match e {
            FuncError::Plain(m) => err(cmd.pos, cmd.src(), m),
            FuncError::Call(m) => err(cmd.pos, cmd.src(), format!("error calling {name}: {m}")),
        })
    }
}

/// A label's value from a row's `Labels` (a map, or docker's `k=v,k=v` column).
fn label(row: &serde_json::Map<String, Value>, key: &str) -> String {
    match row.get("Labels") {
        Some(Value::Object(o)) => o.get(key).and_then(Value::as_str).unwrap_or("").into(),
        Some(Value::String(s)) => s
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// docker runs inspect templates over its Go structs first and falls back to the raw JSON
/// with `missingkey=error` only when that fails: a key missing from a struct (all keys
/// capitalised, like `State`) is an error, one missing from a real map (labels, networks,
/// ports) is not.
fn looks_like_struct(m: &serde_json::Map<String, Value>) -> bool {
    !m.is_empty()
        && m.keys()
            .all(|k| k.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
}
