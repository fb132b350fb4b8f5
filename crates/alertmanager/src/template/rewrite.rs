//! Method calls for gotmpl, which only knows maps and lists.
//!
//! Alertmanager's templates call Go methods on its data: `.Alerts.Firing`,
//! `.CommonLabels.SortedPairs`, `.CommonLabels.Remove .GroupLabels.Names`,
//! `.StartsAt.Format "15:04"`. gotmpl treats `.X` as a map lookup, so after
//! parsing we rewrite every field chain that names one of these methods into
//! a call of the hidden function `__method "Name" receiver args...`, which
//! dispatches on the receiver's shape (see `funcs::method`). Go gives methods
//! precedence over map keys, and so does this rewrite.
//!
//! Printing actions also get a trailing `__print` command: Go prints a
//! missing label as the empty string (`missingkey=zero` on
//! `map[string]string`) and `Pairs` as a slice of structs.

use gotmpl::parse::{CommandNode, Expr, ListNode, Node, PipeNode, Pos, SmolStr};

/// Names that are methods of Alertmanager's template types (`Alerts`, `KV`,
/// `Pairs`, `time.Time`).
pub const METHODS: &[&str] = &[
    "Firing",
    "Resolved",
    "SortedPairs",
    "Names",
    "Values",
    "Remove",
    "Format",
    "Unix",
    "UnixMilli",
    "UTC",
    "Local",
    "IsZero",
];

pub const METHOD_FN: &str = "__method";
pub const PRINT_FN: &str = "__print";

/// Rewrites a parsed template body in place.
pub fn rewrite(list: &mut ListNode) {
    for node in &mut list.nodes {
        match node {
            Node::Action(a) => {
                rewrite_pipe(&mut a.pipe);
                // Go's escapers must stay last in html/template, and they
                // already return plain strings.
                let ends_in_escaper = matches!(
                    a.pipe.commands.last().and_then(|c| c.args.first()),
                    Some(Expr::Identifier(_, n)) if matches!(n.as_str(), "html" | "urlquery" | "js")
                );
                if a.pipe.decl.is_empty() && !ends_in_escaper {
                    let pos = a.pipe.pos;
                    a.pipe.commands.push(CommandNode {
                        pos,
                        args: vec![Expr::Identifier(pos, SmolStr::new(PRINT_FN))],
                    });
                }
            }
            Node::If(b) | Node::Range(b) | Node::With(b) => {
                rewrite_pipe(&mut b.pipe);
                rewrite(&mut b.body);
                if let Some(e) = &mut b.else_body {
                    rewrite(e);
                }
            }
            Node::Template(t) => {
                if let Some(p) = &mut t.pipe {
                    rewrite_pipe(p);
                }
            }
            Node::List(l) => rewrite(l),
            Node::Define(d) => rewrite(&mut d.body),
            Node::Text(_) | Node::Break(_) | Node::Continue(_) => {}
        }
    }
}

fn rewrite_pipe(pipe: &mut PipeNode) {
    for cmd in &mut pipe.commands {
        rewrite_command(cmd);
    }
}

fn rewrite_command(cmd: &mut CommandNode) {
    for arg in &mut cmd.args {
        let old = std::mem::replace(arg, Expr::Nil(arg.pos()));
        *arg = rewrite_expr(old);
    }
    // A method at the head of a command takes the command's other arguments
    // (and a piped value), as in `{{ .CommonLabels.Remove .GroupLabels.Names }}`:
    // flatten `(__method "Remove" .CommonLabels) args...` into one call.
    if let Some(Expr::Pipe(_, p)) = cmd.args.first() {
        if p.decl.is_empty() && p.commands.len() == 1 && is_method_call(&p.commands[0]) {
            let mut args = p.commands[0].args.clone();
            args.extend(cmd.args.drain(1..));
            cmd.args = args;
        }
    }
}

fn is_method_call(c: &CommandNode) -> bool {
    matches!(c.args.first(), Some(Expr::Identifier(_, n)) if n == METHOD_FN)
}

fn method_index(chain: &[SmolStr]) -> Option<usize> {
    chain.iter().position(|f| METHODS.contains(&f.as_str()))
}

fn call(pos: Pos, method: &SmolStr, receiver: Expr) -> Expr {
    Expr::Pipe(
        pos,
        PipeNode {
            pos,
            decl: Vec::new(),
            commands: vec![CommandNode {
                pos,
                args: vec![
                    Expr::Identifier(pos, SmolStr::new(METHOD_FN)),
                    Expr::String(pos, method.as_str().into()),
                    receiver,
                ],
            }],
            is_assign: false,
        },
    )
}

fn after(pos: Pos, call: Expr, rest: &[SmolStr]) -> Expr {
    if rest.is_empty() {
        call
    } else {
        rewrite_expr(Expr::Chain(pos, Box::new(call), rest.to_vec()))
    }
}

fn rewrite_expr(e: Expr) -> Expr {
    match e {
        Expr::Field(pos, chain) => match method_index(&chain) {
            Some(i) => {
                let recv = if i == 0 {
                    Expr::Dot(pos)
                } else {
                    Expr::Field(pos, chain[..i].to_vec())
                };
                after(pos, call(pos, &chain[i], recv), &chain[i + 1..])
            }
            None => Expr::Field(pos, chain),
        },
        Expr::Variable(pos, name, chain) => match method_index(&chain) {
            Some(i) => {
                let recv = Expr::Variable(pos, name, chain[..i].to_vec());
                after(pos, call(pos, &chain[i], recv), &chain[i + 1..])
            }
            None => Expr::Variable(pos, name, chain),
        },
        Expr::Chain(pos, inner, chain) => {
            let inner = rewrite_expr(*inner);
            match method_index(&chain) {
                Some(i) => {
                    let recv = if i == 0 {
                        inner
                    } else {
                        Expr::Chain(pos, Box::new(inner), chain[..i].to_vec())
                    };
                    after(pos, call(pos, &chain[i], recv), &chain[i + 1..])
                }
                None => Expr::Chain(pos, Box::new(inner), chain),
            }
        }
        Expr::Pipe(pos, mut p) => {
            rewrite_pipe(&mut p);
            Expr::Pipe(pos, p)
        }
        other => other,
    }
}
