//! The annotated item: a function with a body, or an error saying what to write instead.
//!
//! The function's header (attributes, visibility, signature) is kept as the exact tokens
//! the user wrote, so that the name, the parentheses and every span survive and item-level
//! lints such as `dead_code` keep firing on a tracked function. The body is kept as tokens
//! too; it is also parsed when syn can, for the strategies that need to look inside it.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::{Attribute, Signature, Stmt, Token, Visibility};

use crate::kind::Kind;

/// A function the attribute can wrap.
pub(crate) struct TrackedFn {
    /// Every token before the body, exactly as written.
    pub(crate) header: TokenStream,
    /// The outer attributes (doc comments included).
    pub(crate) attrs: Vec<Attribute>,
    /// The signature.
    pub(crate) sig: Signature,
    /// The body.
    pub(crate) body: Body,
}

/// A function body, split into its inner attributes and the rest.
pub(crate) struct Body {
    /// The span of the body's braces, given back to the rewritten body.
    pub(crate) brace_span: Span,
    /// `#![...]` attributes at the top of the body; they move to the top of the new body.
    pub(crate) inner_attrs: Vec<Attribute>,
    /// The statements, as the user wrote them.
    pub(crate) tokens: TokenStream,
    /// The statements parsed, when syn understands them.
    pub(crate) stmts: Option<Vec<Stmt>>,
}

impl TrackedFn {
    /// `true` when the function carries `#[track_caller]`.
    pub(crate) fn has_track_caller(&self) -> bool {
        self.attrs
            .iter()
            .any(|attr| attr.path().is_ident("track_caller"))
    }
}

/// Parses the annotated item, or explains why the attribute does not belong on it.
pub(crate) fn parse(kind: Kind, item: TokenStream) -> syn::Result<TrackedFn> {
    let trees: Vec<TokenTree> = item.clone().into_iter().collect();
    let (attrs, sig, brace_span, body_tokens) =
        (|input: ParseStream| parse_fn(kind, input)).parse2(item)?;
    // `parse_fn` consumed the whole input and its last token was the body, so the header is
    // everything before the last token tree.
    let header: TokenStream = trees[..trees.len().saturating_sub(1)]
        .iter()
        .cloned()
        .collect();
    reject_second_attribute(kind, &attrs)?;
    if let Some(constness) = &sig.constness {
        return Err(syn::Error::new(
            constness.span,
            format!(
                "{} cannot be used on a `const fn`: telemetry is recorded at run time; remove `const` or the attribute",
                kind.attribute()
            ),
        ));
    }
    let body = split_body(brace_span, body_tokens)?;
    Ok(TrackedFn {
        header,
        attrs,
        sig,
        body,
    })
}

type Parts = (Vec<Attribute>, Signature, Span, TokenStream);

fn parse_fn(kind: Kind, input: ParseStream) -> syn::Result<Parts> {
    let attrs = input.call(Attribute::parse_outer)?;
    let _vis: Visibility = input.parse()?;
    if input.fork().parse::<Signature>().is_err() {
        return Err(not_a_function(kind, input));
    }
    let sig: Signature = input.parse()?;
    if input.peek(Token![;]) {
        return Err(syn::Error::new(
            sig.ident.span(),
            format!(
                "{} needs a function body: put it on the method in the `impl` block, not on its declaration",
                kind.attribute()
            ),
        ));
    }
    let group = match input.parse::<TokenTree>() {
        Ok(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => group,
        Ok(other) => {
            return Err(syn::Error::new(
                other.span(),
                "expected the function's body `{ .. }`",
            ))
        }
        Err(_) => return Err(input.error("expected the function's body `{ .. }`")),
    };
    if !input.is_empty() {
        return Err(input.error("unexpected tokens after the function's body"));
    }
    Ok((attrs, sig, group.span(), group.stream()))
}

/// Explains, on the item's first keyword, that only functions can be tracked.
fn not_a_function(kind: Kind, input: ParseStream) -> syn::Error {
    let what = if input.peek(Token![struct]) {
        Some("a struct")
    } else if input.peek(Token![enum]) {
        Some("an enum")
    } else if input.peek(Token![union]) {
        Some("a union")
    } else if input.peek(Token![impl]) || input.peek(Token![unsafe]) && input.peek2(Token![impl]) {
        return input.error(format!(
            "{} goes on each function, not on an `impl` block: put it on the methods to track",
            kind.attribute()
        ));
    } else if input.peek(Token![trait]) || input.peek(Token![unsafe]) && input.peek2(Token![trait])
    {
        Some("a trait")
    } else if input.peek(Token![mod]) {
        Some("a module")
    } else if input.peek(Token![static]) {
        Some("a static")
    } else if input.peek(Token![const]) {
        Some("a constant")
    } else if input.peek(Token![type]) {
        Some("a type alias")
    } else if input.peek(Token![use]) {
        Some("a `use` item")
    } else if input.peek(Token![extern]) {
        Some("an `extern` item")
    } else if input.peek(Token![macro]) || next_ident_is(input, "macro_rules") {
        Some("a macro")
    } else {
        None
    };
    let message = match what {
        Some(what) => format!(
            "{} can only be used on functions, not on {what}; move it to the function to track",
            kind.attribute()
        ),
        None => format!(
            "{} can only be used on functions; move it to the function to track",
            kind.attribute()
        ),
    };
    input.error(message)
}

fn next_ident_is(input: ParseStream, word: &str) -> bool {
    input
        .fork()
        .parse::<syn::Ident>()
        .is_ok_and(|ident| ident == word)
}

/// `fn main` that starts telemetry itself (`telemetry::init(..)` in its body): the
/// call would start before `init` (so it is not recorded) and end after the guard is
/// dropped, so its event could never be sent. `root` is the runtime's name (`telemetry`,
/// or the last segment of `crate = ..`).
pub(crate) fn reject_main_with_init(
    kind: Kind,
    function: &TrackedFn,
    root: Option<&syn::Path>,
) -> syn::Result<()> {
    let sig = &function.sig;
    if sig.ident != "main" || sig.receiver().is_some() {
        return Ok(());
    }
    let root = root.and_then(|path| path.segments.last()).map_or_else(
        || "telemetry".to_owned(),
        |segment| segment.ident.to_string(),
    );
    if !calls_init(function.body.tokens.clone(), &root) {
        return Ok(());
    }
    Err(syn::Error::new(
        sig.ident.span(),
        format!(
            "{attribute} on the `main` that calls `{root}::init` would never be sent: the call starts before `init` and ends after its guard is dropped; keep `{root}::init` in `main` and put {attribute} on the handler `main` calls",
            attribute = kind.attribute()
        ),
    ))
}

/// Whether `tokens` contain `<root>::init(..)`.
fn calls_init(tokens: TokenStream, root: &str) -> bool {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let found = trees.windows(5).any(|window| match window {
        [TokenTree::Ident(krate), TokenTree::Punct(first), TokenTree::Punct(second), TokenTree::Ident(init), TokenTree::Group(args)] => {
            krate == root
                && first.as_char() == ':'
                && second.as_char() == ':'
                && init == "init"
                && args.delimiter() == Delimiter::Parenthesis
        }
        _ => false,
    });
    found
        || trees.into_iter().any(|tree| match tree {
            TokenTree::Group(group) => calls_init(group.stream(), root),
            _ => false,
        })
}

/// A function tracked twice would send two events per call.
fn reject_second_attribute(kind: Kind, attrs: &[Attribute]) -> syn::Result<()> {
    for attr in attrs {
        let Some(last) = attr.path().segments.last() else {
            continue;
        };
        if last.ident == "tracked_command" || last.ident == "tracked_step" {
            return Err(syn::Error::new_spanned(
                attr,
                format!(
                    "a function can be tracked once: remove either this attribute or {}",
                    kind.attribute()
                ),
            ));
        }
    }
    Ok(())
}

fn split_body(brace_span: Span, tokens: TokenStream) -> syn::Result<Body> {
    let split = |input: ParseStream| -> syn::Result<(Vec<Attribute>, TokenStream)> {
        let inner_attrs = input.call(Attribute::parse_inner)?;
        let rest: TokenStream = input.parse()?;
        Ok((inner_attrs, rest))
    };
    let (inner_attrs, rest) = split.parse2(tokens)?;
    let stmts = (|input: ParseStream| syn::Block::parse_within(input))
        .parse2(rest.clone())
        .ok();
    Ok(Body {
        brace_span,
        inner_attrs,
        tokens: rest,
        stmts,
    })
}
