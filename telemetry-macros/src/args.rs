//! The attribute's arguments: `name = "..."`, `skip(..)`, `skip_all`, `hash(..)`,
//! `record(..)`, `crate = "..."`, `error_kind = path`, `success = "always"`.
//!
//! Parsing is lenient about shape and strict about meaning: every option is first read
//! as `key`, `key = tokens` or `key(tokens)`, then interpreted, so one compile reports
//! every misuse in the attribute, each on the offending token.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Ident, LitStr, Path, Token};

use crate::error::{closest, Errors};

/// Every option, as written after the attribute's name, with the text used in messages.
pub(crate) const OPTIONS: &[(&str, &str)] = &[
    ("name", "`name = \"...\"`"),
    ("skip", "`skip(..)`"),
    ("skip_all", "`skip_all`"),
    ("hash", "`hash(..)`"),
    ("record", "`record(..)`"),
    ("crate", "`crate = \"...\"`"),
    ("error_kind", "`error_kind = path::to::fn`"),
    ("success", "`success = \"always\"`"),
];

/// The parsed arguments of one `#[tracked_command(..)]` or `#[tracked_step(..)]`.
#[derive(Default)]
pub(crate) struct Args {
    /// `name = "..."`: the event name instead of the function's name.
    pub(crate) name: Option<LitStr>,
    /// `skip_all`: the keyword, kept for its span.
    pub(crate) skip_all: Option<Ident>,
    /// `skip(..)`: parameters left out.
    pub(crate) skip: Option<ArgList>,
    /// `hash(..)`: the only parameters hashed (the others are left out).
    pub(crate) hash: Option<ArgList>,
    /// `record(..)`: parameters sent as they are.
    pub(crate) record: Option<ArgList>,
    /// `crate = "..."`: the path of the runtime crate, for a host that depends on it under
    /// another name or reaches it through a re-export.
    pub(crate) krate: Option<Path>,
    /// `error_kind = path`: a function `fn(&E) -> &'static str` naming the kind of the
    /// error of a `Result` return.
    pub(crate) error_kind: Option<syn::Expr>,
    /// `success = "always"`: the literal, kept for its span.
    pub(crate) success_always: Option<LitStr>,
}

impl Args {
    /// The lists that were given, in the order `skip`, `hash`, `record`.
    pub(crate) fn lists(&self) -> impl Iterator<Item = &ArgList> {
        [&self.skip, &self.hash, &self.record].into_iter().flatten()
    }
}

/// One of `skip(..)`, `hash(..)`, `record(..)`.
pub(crate) struct ArgList {
    /// The option's keyword (`skip`, `hash` or `record`), for spans and messages.
    pub(crate) key: Ident,
    /// The parameter names, in order, without duplicates.
    pub(crate) names: Vec<Ident>,
}

impl ArgList {
    /// `skip(..)`, `hash(..)` or `record(..)`, for messages.
    pub(crate) fn display(&self) -> String {
        format!("`{}(..)`", self.key)
    }
}

/// What followed an option's key.
enum Value {
    /// Nothing: `skip_all`.
    Bare,
    /// `= tokens`, up to the next top-level comma.
    Eq(Token![=], TokenStream),
    /// `(tokens)`.
    List(Group),
    /// `[..]` or `{..}`: always a mistake.
    OtherGroup,
}

/// Parses the tokens between the attribute's parentheses.
pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Args> {
    let raw = parse_raw.parse2(tokens)?;
    let mut args = Args::default();
    let mut errors = Errors::default();
    for (key, value) in raw {
        interpret(&mut args, &mut errors, key, value);
    }
    errors.finish()?;
    Ok(args)
}

/// Reads `key`, `key = ..` and `key(..)` items separated by commas.
fn parse_raw(input: ParseStream) -> syn::Result<Vec<(Ident, Value)>> {
    let mut raw = Vec::new();
    while !input.is_empty() {
        if input.peek(LitStr) {
            let literal: LitStr = input.parse()?;
            return Err(syn::Error::new(
                literal.span(),
                format!(
                    "expected an option; to name the event, write `name = {}`",
                    quote::quote!(#literal)
                ),
            ));
        }
        let key = input.call(Ident::parse_any).map_err(|error| {
            syn::Error::new(
                error.span(),
                format!("expected an option: one of {}", option_list()),
            )
        })?;
        let value = if input.peek(Token![=]) {
            let eq: Token![=] = input.parse()?;
            let mut tokens = TokenStream::new();
            while !input.is_empty() && !input.peek(Token![,]) {
                tokens.extend([input.parse::<TokenTree>()?]);
            }
            Value::Eq(eq, tokens)
        } else if input.peek(syn::token::Paren)
            || input.peek(syn::token::Bracket)
            || input.peek(syn::token::Brace)
        {
            let group: Group = input.parse()?;
            if group.delimiter() == Delimiter::Parenthesis {
                Value::List(group)
            } else {
                Value::OtherGroup
            }
        } else {
            Value::Bare
        };
        raw.push((key, value));
        if input.is_empty() {
            break;
        }
        if !input.peek(Token![,]) {
            return Err(input.error("expected `,` between options"));
        }
        input.parse::<Token![,]>()?;
    }
    Ok(raw)
}

fn interpret(args: &mut Args, errors: &mut Errors, key: Ident, value: Value) {
    let key_text = key.unraw().to_string();
    match key_text.as_str() {
        "name" => interpret_name(args, errors, &key, value),
        "crate" => interpret_crate(args, errors, &key, value),
        "error_kind" => interpret_error_kind(args, errors, &key, value),
        "success" => interpret_success(args, errors, &key, value),
        "skip_all" => match value {
            Value::Bare => {
                if args.skip_all.is_some() {
                    errors.push(syn::Error::new(
                        key.span(),
                        "duplicate option `skip_all`; remove this one",
                    ));
                } else {
                    args.skip_all = Some(key);
                }
            }
            _ => errors.push(syn::Error::new(
                key.span(),
                "`skip_all` takes no value: write `skip_all`, or `skip(..)` to leave out some arguments",
            )),
        },
        "skip" | "hash" | "record" => {
            let Value::List(group) = value else {
                errors.push(syn::Error::new(
                    key.span(),
                    format!("`{key_text}` takes a list of parameter names: write `{key_text}(a, b)`"),
                ));
                return;
            };
            let list = parse_list(&key, &group, errors);
            let slot = match key_text.as_str() {
                "skip" => &mut args.skip,
                "hash" => &mut args.hash,
                _ => &mut args.record,
            };
            if slot.is_some() {
                errors.push(syn::Error::new(
                    key.span(),
                    format!(
                        "duplicate option `{key_text}`; each option can be given once: merge the names into one `{key_text}(..)`"
                    ),
                ));
            } else if let Some(list) = list {
                *slot = Some(list);
            }
        }
        _ => {
            let known: Vec<&str> = OPTIONS.iter().map(|(name, _)| *name).collect();
            let message = match closest(&key_text, &known) {
                Some(near) => format!(
                    "unknown option `{key_text}`; did you mean `{near}`? Expected one of {}",
                    option_list()
                ),
                None => format!(
                    "unknown option `{key_text}`; expected one of {}",
                    option_list()
                ),
            };
            errors.push(syn::Error::new(key.span(), message));
        }
    }
}

/// `name = "..."`.
fn interpret_name(args: &mut Args, errors: &mut Errors, key: &Ident, value: Value) {
    let Value::Eq(eq, tokens) = value else {
        errors.push(syn::Error::new(
            key.span(),
            "`name` takes a string: write `name = \"...\"`",
        ));
        return;
    };
    let Ok(literal) = syn::parse2::<LitStr>(tokens.clone()) else {
        let (span, hint) = if tokens.is_empty() {
            (eq.span, "load".to_string())
        } else {
            (tokens.span(), tokens.to_string())
        };
        errors.push(syn::Error::new(
            span,
            format!(
                "expected a string literal after `name =`; write `name = \"{}\"`",
                hint.trim_matches('"')
            ),
        ));
        return;
    };
    if args.name.is_some() {
        errors.push(syn::Error::new(
            key.span(),
            "duplicate option `name`; an event has one name: keep one `name = \"...\"`",
        ));
    } else {
        args.name = Some(literal);
    }
}

/// `crate = "path"`, or the path written bare: `crate = my_telemetry`.
fn interpret_crate(args: &mut Args, errors: &mut Errors, key: &Ident, value: Value) {
    const WRITE: &str = "write the name your `Cargo.toml` gives the telemetry dependency, as in `crate = \"my_telemetry\"`";
    let Value::Eq(eq, tokens) = value else {
        errors.push(syn::Error::new(
            key.span(),
            format!("`crate` takes the path of the telemetry crate: {WRITE}"),
        ));
        return;
    };
    let path = if tokens.is_empty() {
        Err(syn::Error::new(
            eq.span,
            format!("expected a path after `crate =`; {WRITE}"),
        ))
    } else if let Ok(literal) = syn::parse2::<LitStr>(tokens.clone()) {
        // The path's tokens take the literal's span, so an unresolved path is reported
        // on the string.
        literal.parse_with(Path::parse_mod_style).map_err(|_| {
            syn::Error::new(
                literal.span(),
                format!("{} is not a path; {WRITE}", quote::quote!(#literal)),
            )
        })
    } else {
        Path::parse_mod_style.parse2(tokens.clone()).map_err(|_| {
            syn::Error::new(
                tokens.span(),
                format!("expected a path after `crate =`; {WRITE}"),
            )
        })
    };
    let Some(path) = errors.check(path) else {
        return;
    };
    if args.krate.is_some() {
        errors.push(syn::Error::new(
            key.span(),
            "duplicate option `crate`; the expansion has one runtime crate: keep one `crate = \"...\"`",
        ));
    } else {
        args.krate = Some(path);
    }
}

/// `error_kind = path::to::fn`: a path (a function, or an associated function such as
/// `MyError::kind`), or a closure.
fn interpret_error_kind(args: &mut Args, errors: &mut Errors, key: &Ident, value: Value) {
    const WRITE: &str = "write the path of a function taking the error by reference and returning a `&'static str`, as in `error_kind = my_error_kind`";
    let Value::Eq(eq, tokens) = value else {
        errors.push(syn::Error::new(
            key.span(),
            format!("`error_kind` takes a function: {WRITE}"),
        ));
        return;
    };
    if tokens.is_empty() {
        errors.push(syn::Error::new(
            eq.span,
            format!("expected a function after `error_kind =`; {WRITE}"),
        ));
        return;
    }
    let expr = match syn::parse2::<syn::Expr>(tokens.clone()) {
        Ok(expr @ (syn::Expr::Path(_) | syn::Expr::Closure(_))) => expr,
        Ok(syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(literal),
            ..
        })) => {
            errors.push(syn::Error::new(
                literal.span(),
                format!(
                    "`error_kind` takes a function, not a string; write `error_kind = {}`",
                    literal.value()
                ),
            ));
            return;
        }
        _ => {
            errors.push(syn::Error::new(
                tokens.span(),
                format!("expected a function after `error_kind =`; {WRITE}"),
            ));
            return;
        }
    };
    if args.error_kind.is_some() {
        errors.push(syn::Error::new(
            key.span(),
            "duplicate option `error_kind`; keep one `error_kind = ..`",
        ));
    } else {
        args.error_kind = Some(expr);
    }
}

/// `success = "always"`.
fn interpret_success(args: &mut Args, errors: &mut Errors, key: &Ident, value: Value) {
    const WRITE: &str = "write `success = \"always\"` to count every call that returns as a success (only a panic or a cancellation fails), or remove it to decide from the return value";
    let literal = match value {
        Value::Eq(_, tokens) => syn::parse2::<LitStr>(tokens.clone()).map_err(|_| {
            syn::Error::new(
                if tokens.is_empty() {
                    key.span()
                } else {
                    tokens.span()
                },
                format!("expected a string after `success =`; {WRITE}"),
            )
        }),
        _ => Err(syn::Error::new(
            key.span(),
            format!("`success` takes a string: {WRITE}"),
        )),
    };
    let Some(literal) = errors.check(literal) else {
        return;
    };
    if literal.value() != "always" {
        errors.push(syn::Error::new(
            literal.span(),
            format!("unknown value {:?} for `success`; {WRITE}", literal.value()),
        ));
    } else if args.success_always.is_some() {
        errors.push(syn::Error::new(
            key.span(),
            "duplicate option `success`; keep one `success = \"always\"`",
        ));
    } else {
        args.success_always = Some(literal);
    }
}

/// Reads the parameter names of `skip(..)`, `hash(..)` or `record(..)`.
fn parse_list(key: &Ident, group: &Group, errors: &mut Errors) -> Option<ArgList> {
    let parser = |input: ParseStream| -> syn::Result<Vec<Ident>> {
        let mut names = Vec::new();
        while !input.is_empty() {
            let name = input.call(Ident::parse_any).map_err(|error| {
                syn::Error::new(
                    error.span(),
                    format!("expected a parameter name, as in `{key}(rows)`"),
                )
            })?;
            names.push(name);
            if input.is_empty() {
                break;
            }
            if !input.peek(Token![,]) {
                return Err(syn::Error::new(
                    input.span(),
                    format!("expected `,` or `)`: `{key}(..)` lists parameter names only, as in `{key}(a, b)`"),
                ));
            }
            input.parse::<Token![,]>()?;
        }
        Ok(names)
    };
    let names = match parser.parse2(group.stream()) {
        Ok(names) => names,
        Err(error) => {
            errors.push(error);
            return None;
        }
    };
    if names.is_empty() {
        let instead = match key.to_string().as_str() {
            "hash" => "; to send no argument, write `skip_all`",
            _ => "",
        };
        errors.push(syn::Error::new(
            group.span(),
            format!("`{key}()` names no parameter; list some, as in `{key}(rows)`, or remove it{instead}"),
        ));
        return None;
    }
    let mut unique: Vec<Ident> = Vec::with_capacity(names.len());
    for name in names {
        let text = name.unraw().to_string();
        if unique.iter().any(|seen| seen.unraw() == text) {
            errors.push(syn::Error::new(
                name.span(),
                format!("`{text}` is listed twice in `{key}(..)`; remove one"),
            ));
        } else {
            unique.push(name);
        }
    }
    Some(ArgList {
        key: key.clone(),
        names: unique,
    })
}

/// "`name = \"...\"`, `skip(..)`, ... or `record(..)`" for messages.
fn option_list() -> String {
    let mut text = String::new();
    for (index, (_, shown)) in OPTIONS.iter().enumerate() {
        if index > 0 {
            text.push_str(if index + 1 == OPTIONS.len() {
                " or "
            } else {
                ", "
            });
        }
        text.push_str(shown);
    }
    text
}
