//! Turns a command's syntax line (`key value [NX | XX] [EX seconds | PX milliseconds]`, the
//! form Redis's docs use and our table rows carry) into Redis's `COMMAND DOCS` argument model:
//! named, typed arguments, with tokens, `optional`/`multiple` flags, `oneof` and `block`
//! groups, and key arguments pointing at their key spec.

use crate::protocol::Reply;

#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: String,
    pub kind: &'static str,
    pub token: Option<String>,
    pub optional: bool,
    pub multiple: bool,
    pub key_spec_index: Option<usize>,
    pub children: Vec<Arg>,
}

fn tokenize(s: &str) -> Vec<String> {
    let spaced = s
        .replace('[', " [ ")
        .replace(']', " ] ")
        .replace('<', " < ")
        .replace('>', " > ")
        .replace('|', " | ");
    spaced.split_whitespace().map(str::to_string).collect()
}

fn is_token(w: &str) -> bool {
    w.chars().any(|c| c.is_ascii_uppercase())
        && w.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '.')
}

fn kind_of(name: &str) -> &'static str {
    match name {
        "key" | "key1" | "key2" | "newkey" | "source" | "destination" => "key",
        "pattern" => "pattern",
        n if n.starts_with("unix-time") => "unix-time",
        "seconds" | "milliseconds" | "count" | "offset" | "start" | "end" | "index" | "db"
        | "destination-db" | "increment" | "decrement" | "numkeys" | "cursor" | "ttl"
        | "frequency" | "client-id" | "maxage" | "protover" | "min-match-len" | "bytes"
        | "stop" | "rank" | "num-matches" | "len" => "integer",
        "score" | "timeout" | "weight" => "double",
        _ => "string",
    }
}

struct Parser {
    toks: Vec<String>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.pos).map(String::as_str)
    }

    /// A sequence up to `|`, `]`, `>` or the end.
    fn seq(&mut self) -> Vec<Arg> {
        let mut out: Vec<Arg> = Vec::new();
        while let Some(t) = self.peek() {
            match t {
                "|" | "]" | ">" => break,
                "[" | "<" => {
                    let optional = t == "[";
                    self.pos += 1;
                    let alts = self.alts();
                    self.pos += 1; // the closing bracket
                                   // `x [x ...]`: the group repeats what precedes it.
                    if let [alt] = alts.as_slice() {
                        if alt.last().is_some_and(|a| a.name == "...") {
                            let n = alt.len() - 1;
                            if n > 0 && out.len() >= n {
                                let start = out.len() - n;
                                if n == 1 {
                                    out[start].multiple = true;
                                } else {
                                    let items: Vec<Arg> = out.drain(start..).collect();
                                    out.push(block("data", items, false, true));
                                }
                                continue;
                            }
                        }
                    }
                    out.push(group(alts, optional));
                }
                "..." => {
                    self.pos += 1;
                    out.push(plain("...", "string"));
                }
                w if is_token(w) => {
                    let token = w.to_string();
                    self.pos += 1;
                    match self.peek() {
                        Some(n)
                            if !is_token(n) && !["[", "<", "|", "]", ">", "..."].contains(&n) =>
                        {
                            let name = n.to_string();
                            self.pos += 1;
                            let mut a = plain(&name, kind_of(&name));
                            a.token = Some(token);
                            out.push(a);
                        }
                        _ => {
                            let mut a = plain(&token.to_ascii_lowercase(), "pure-token");
                            a.token = Some(token);
                            out.push(a);
                        }
                    }
                }
                w => {
                    let name = w.to_string();
                    self.pos += 1;
                    out.push(plain(&name, kind_of(&name)));
                }
            }
        }
        out
    }

    fn alts(&mut self) -> Vec<Vec<Arg>> {
        let mut alts = vec![self.seq()];
        while self.peek() == Some("|") {
            self.pos += 1;
            alts.push(self.seq());
        }
        alts
    }
}

fn plain(name: &str, kind: &'static str) -> Arg {
    Arg {
        name: name.to_string(),
        kind,
        token: None,
        optional: false,
        multiple: false,
        key_spec_index: None,
        children: Vec::new(),
    }
}

fn block(name: &str, children: Vec<Arg>, optional: bool, multiple: bool) -> Arg {
    Arg {
        optional,
        multiple,
        children,
        ..plain(name, "block")
    }
}

fn group(mut alts: Vec<Vec<Arg>>, optional: bool) -> Arg {
    if alts.len() == 1 {
        let mut items = alts.pop().expect("one alternative");
        if items.len() == 1 {
            let mut a = items.pop().expect("one item");
            a.optional = optional;
            return a;
        }
        let name = items
            .first()
            .map_or("block".to_string(), |a| a.name.clone());
        return block(&name, items, optional, false);
    }
    let children: Vec<Arg> = alts
        .into_iter()
        .map(|mut items| {
            if items.len() == 1 {
                items.pop().expect("one item")
            } else {
                let name = items
                    .first()
                    .map_or("block".to_string(), |a| a.name.clone());
                block(&name, items, false, false)
            }
        })
        .collect();
    let name = children
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join("-or-");
    Arg {
        optional,
        children,
        ..plain(&name, "oneof")
    }
}

/// Parses a syntax line; key arguments get key spec indexes in order (capped at the last spec).
pub fn parse(syntax: &str, key_specs: usize) -> Vec<Arg> {
    let mut p = Parser {
        toks: tokenize(syntax),
        pos: 0,
    };
    let mut args = p.seq();
    let mut next = 0;
    number_keys(&mut args, &mut next, key_specs);
    args
}

fn number_keys(args: &mut [Arg], next: &mut usize, specs: usize) {
    for a in args {
        if a.kind == "key" && specs > 0 {
            a.key_spec_index = Some((*next).min(specs - 1));
            *next += 1;
        }
        number_keys(&mut a.children, next, specs);
    }
}

/// The argument as a `COMMAND DOCS` map.
pub fn reply(a: &Arg) -> Reply {
    let mut pairs = vec![
        ("name", Reply::bulk(a.name.clone())),
        ("type", Reply::bulk(a.kind)),
    ];
    if a.kind != "pure-token" && a.kind != "oneof" && a.kind != "block" {
        pairs.push(("display_text", Reply::bulk(a.name.clone())));
    }
    if let Some(i) = a.key_spec_index {
        pairs.push(("key_spec_index", Reply::Int(i as i64)));
    }
    if let Some(t) = &a.token {
        pairs.push(("token", Reply::bulk(t.clone())));
    }
    let mut flags = Vec::new();
    if a.optional {
        flags.push(Reply::status("optional"));
    }
    if a.multiple {
        flags.push(Reply::status("multiple"));
    }
    if !flags.is_empty() {
        pairs.push(("flags", Reply::Set(flags)));
    }
    if !a.children.is_empty() {
        pairs.push((
            "arguments",
            Reply::Array(a.children.iter().map(reply).collect()),
        ));
    }
    Reply::map_str(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_syntax() {
        let a = parse(
            "key value [NX | XX] [GET] [EX seconds | PX milliseconds | KEEPTTL]",
            1,
        );
        assert_eq!(a.len(), 5);
        assert_eq!((a[0].name.as_str(), a[0].kind), ("key", "key"));
        assert_eq!(a[0].key_spec_index, Some(0));
        assert_eq!(a[2].kind, "oneof");
        assert!(a[2].optional);
        assert_eq!(a[2].children[0].token.as_deref(), Some("NX"));
        assert_eq!(a[3].kind, "pure-token");
        assert_eq!(a[4].children[0].name, "seconds");
        assert_eq!(a[4].children[0].kind, "integer");
        assert_eq!(a[4].children[2].kind, "pure-token");
    }

    #[test]
    fn repetition() {
        let a = parse("key [key ...]", 1);
        assert_eq!(a.len(), 1);
        assert!(a[0].multiple);
        let m = parse("key value [key value ...]", 1);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].kind, "block");
        assert!(m[0].multiple);
        assert_eq!(m[0].children.len(), 2);
        let r = parse("key newkey", 2);
        assert_eq!(r[1].key_spec_index, Some(1));
        assert!(parse("", 0).is_empty());
    }
}
