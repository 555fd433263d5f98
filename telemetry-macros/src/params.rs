//! The parameters of the tracked function, and what is sent for each.
//!
//! Only parameters bound to a single name can be sent, because the name is the key under
//! `properties.args`: `source: &str`, `mut rows: Vec<Row>`, `ref id: u64`. The receiver
//! (`self` in any form) is never sent. Parameters written as a pattern (`(a, b): (u8, u8)`,
//! `Point { x, y }: Point`) or as `_` have no name and are left out; so are parameters
//! carrying `#[cfg]`/`#[cfg_attr]`, which may not exist in every build, and the
//! `__argN` parameters `#[async_trait]` makes of patterns.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{FnArg, Ident, Pat, Signature, Type};

/// One parameter of the signature.
pub(crate) struct Param {
    /// The parameter's role.
    pub(crate) kind: ParamKind,
    /// The span of the whole parameter (`name: Type`).
    pub(crate) span: Span,
    /// `true` when a `#[cfg]` or `#[cfg_attr]` attribute is on it.
    pub(crate) has_cfg: bool,
}

/// The role a parameter can play.
pub(crate) enum ParamKind {
    /// `self`, `&self`, `&mut self`, `self: Box<Self>`, ...
    Receiver,
    /// `name: Type` (also `mut name`, `ref name`).
    Named {
        /// The binding, with the user's span (it resolves to the parameter).
        ident: Ident,
        /// The parameter is declared as a reference (`name: &T`, `name: &mut T`).
        reference: bool,
    },
    /// A pattern or `_`: nothing to call it by. Lists the names the pattern binds, to
    /// explain an error when one of them is named in an option.
    Unnamed {
        /// Identifiers bound inside the pattern.
        bound: Vec<Ident>,
    },
}

impl Param {
    /// The parameter's name, without `r#`, when it has one.
    pub(crate) fn name(&self) -> Option<String> {
        match &self.kind {
            ParamKind::Receiver => Some("self".to_string()),
            ParamKind::Named { ident, .. } => Some(ident.unraw().to_string()),
            ParamKind::Unnamed { .. } => None,
        }
    }
}

/// How a sent argument leaves the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Keyed one-way hash.
    Hashed,
    /// Serialized as it is.
    Recorded,
}

/// An argument the expansion sends, in signature order.
pub(crate) struct Sent {
    /// The binding to read.
    pub(crate) ident: Ident,
    /// The key under `properties.args`.
    pub(crate) name: String,
    /// Hashed or recorded.
    pub(crate) mode: Mode,
    /// The span errors about this argument's type point at (`name: Type`).
    pub(crate) span: Span,
    /// Declared as a reference: the expansion passes a reborrow (`&*name`) rather than a
    /// reference to the parameter (`&name`), so the parameter's own address is never
    /// taken and it can stay in a register for the body (see `expand::send_args`).
    pub(crate) reference: bool,
}

/// Lists the parameters of `sig`.
pub(crate) fn params(sig: &Signature) -> Vec<Param> {
    sig.inputs
        .iter()
        .map(|input| match input {
            FnArg::Receiver(receiver) => Param {
                kind: ParamKind::Receiver,
                span: receiver.span(),
                has_cfg: has_cfg(&receiver.attrs),
            },
            FnArg::Typed(typed) => {
                let kind = match unparen(&typed.pat) {
                    Pat::Ident(binding)
                        if binding.subpat.is_none()
                            && !is_async_trait_positional(&binding.ident) =>
                    {
                        ParamKind::Named {
                            ident: binding.ident.clone(),
                            reference: binding.by_ref.is_none() && is_reference(&typed.ty),
                        }
                    }
                    other => ParamKind::Unnamed {
                        bound: bound_idents(other),
                    },
                };
                Param {
                    kind,
                    span: typed.span(),
                    has_cfg: has_cfg(&typed.attrs),
                }
            }
        })
        .collect()
}

/// `#[async_trait]` (which expands before the attributes on its methods) renames a
/// parameter written as a pattern to `__arg0`, `__arg1`, ... and destructures it in the
/// body. It had no name in the user's code, so it is not sent either.
fn is_async_trait_positional(ident: &Ident) -> bool {
    ident
        .to_string()
        .strip_prefix("__arg")
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|byte| byte.is_ascii_digit()))
}

/// `&T` or `&mut T`, also in parentheses or an invisible group (a type a macro passed).
fn is_reference(ty: &Type) -> bool {
    match ty {
        Type::Reference(_) => true,
        Type::Paren(paren) => is_reference(&paren.elem),
        Type::Group(group) => is_reference(&group.elem),
        _ => false,
    }
}

fn unparen(pat: &Pat) -> &Pat {
    match pat {
        Pat::Paren(paren) => unparen(&paren.pat),
        other => other,
    }
}

fn has_cfg(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .any(|attr| attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr"))
}

/// The identifiers a pattern binds (an approximation: enough for error messages).
fn bound_idents(pat: &Pat) -> Vec<Ident> {
    let mut found = Vec::new();
    collect_idents(pat.to_token_stream(), &mut found);
    found
}

fn collect_idents(tokens: TokenStream, found: &mut Vec<Ident>) {
    for tree in tokens {
        match tree {
            proc_macro2::TokenTree::Ident(ident) => {
                let text = ident.to_string();
                let is_binding = text.chars().next().is_some_and(char::is_lowercase)
                    && !matches!(text.as_str(), "mut" | "ref" | "box");
                if is_binding {
                    found.push(ident);
                }
            }
            proc_macro2::TokenTree::Group(group) => collect_idents(group.stream(), found),
            _ => {}
        }
    }
}
