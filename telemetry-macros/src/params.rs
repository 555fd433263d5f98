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
    /// `true` when its type is generic: it names one of the function's type parameters
    /// or contains `impl Trait` or `dyn Trait`. Such an argument is left out unless listed in
    /// `hash(..)` or `record(..)`.
    pub(crate) generic: bool,
}

/// The role a parameter can play.
pub(crate) enum ParamKind {
    /// `self`, `&self`, `&mut self`, `self: Box<Self>`, ...
    Receiver,
    /// `name: Type` (also `mut name`, `ref name`).
    Named {
        /// The binding, with the user's span (it resolves to the parameter).
        ident: Ident,
        /// How the expansion passes the parameter to the hasher or serializer.
        pass: Pass,
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
    /// How the expansion passes it (see [`Pass`]).
    pub(crate) pass: Pass,
}

/// How the expansion hands a sent parameter to the hasher or serializer, which take a
/// reference. Taking the parameter's own address (`&name`) keeps it in memory for the
/// whole body, a store and a reload even while telemetry is off; a reference parameter
/// is reborrowed and a scalar copied instead, so that they stay in registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pass {
    /// `&name`: any other type, whose values may not be copied.
    Borrow,
    /// `&*name`: a parameter declared as `&T` or `&mut T` (the same value: `HashArg` and
    /// `Serialize` for `&T` are those of `T`).
    Reborrow,
    /// `&{ name }`: a parameter declared as a primitive scalar (an integer, a float,
    /// `bool` or `char`), which is `Copy`.
    Copy,
}

impl Pass {
    fn of(ty: &Type) -> Pass {
        match ty {
            Type::Reference(_) => Pass::Reborrow,
            Type::Paren(paren) => Pass::of(&paren.elem),
            Type::Group(group) => Pass::of(&group.elem),
            Type::Path(path) if path.qself.is_none() && is_scalar(&path.path) => Pass::Copy,
            _ => Pass::Borrow,
        }
    }
}

/// A primitive scalar type written by its plain name.
fn is_scalar(path: &syn::Path) -> bool {
    const SCALARS: [&str; 16] = [
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "f32", "f64", "bool", "char",
    ];
    path.get_ident()
        .is_some_and(|ident| SCALARS.iter().any(|scalar| ident == scalar))
}

/// Lists the parameters of `sig`.
pub(crate) fn params(sig: &Signature) -> Vec<Param> {
    let type_params: Vec<&Ident> = sig
        .generics
        .type_params()
        .map(|param| &param.ident)
        .collect();
    sig.inputs
        .iter()
        .map(|input| match input {
            FnArg::Receiver(receiver) => Param {
                kind: ParamKind::Receiver,
                span: receiver.span(),
                has_cfg: has_cfg(&receiver.attrs),
                generic: false,
            },
            FnArg::Typed(typed) => {
                let kind = match unparen(&typed.pat) {
                    Pat::Ident(binding)
                        if binding.subpat.is_none()
                            && !is_async_trait_positional(&binding.ident) =>
                    {
                        ParamKind::Named {
                            ident: binding.ident.clone(),
                            pass: if binding.by_ref.is_some() {
                                Pass::Borrow
                            } else {
                                Pass::of(&typed.ty)
                            },
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
                    generic: is_generic(&typed.ty, &type_params),
                }
            }
        })
        .collect()
}

/// Whether `ty` contains `impl Trait` or `dyn Trait`, or names one of `type_params` (as `T`, `&T`,
/// `Vec<T>`, `T::Item`).
fn is_generic(ty: &Type, type_params: &[&Ident]) -> bool {
    fn walk(tokens: TokenStream, type_params: &[&Ident]) -> bool {
        tokens.into_iter().any(|tree| match tree {
            proc_macro2::TokenTree::Ident(ident) => {
                ident == "impl"
                    || ident == "dyn"
                    || type_params.iter().any(|param| ident == **param)
            }
            proc_macro2::TokenTree::Group(group) => walk(group.stream(), type_params),
            _ => false,
        })
    }
    walk(ty.to_token_stream(), type_params)
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
