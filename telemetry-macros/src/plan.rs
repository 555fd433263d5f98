//! The plan of what each call sends, decided from the options and the signature, with
//! the checks that need both. Every error points at the token to change and says what to
//! write.

use std::collections::HashMap;

use syn::ext::IdentExt;
use syn::{Ident, LitStr};

use crate::args::{ArgList, Args};
use crate::error::{closest, Errors};
use crate::params::{Mode, Param, ParamKind, Sent};

/// Decides what each call sends, or explains what is wrong with the options.
pub(crate) fn plan(args: &Args, params: &[Param]) -> syn::Result<Vec<Sent>> {
    let mut errors = Errors::default();
    if let Some(name) = &args.name {
        errors.check(check_name(name));
    }
    if let (Some(_), Some(always)) = (&args.error_kind, &args.success_always) {
        errors.push(syn::Error::new(
            always.span(),
            "`success = \"always\"` never records a failure, so `error_kind = ..` would never be used; remove one of them",
        ));
    }
    if args.skip_all.is_some() {
        for list in args.lists() {
            errors.push(syn::Error::new(
                list.key.span(),
                format!(
                    "`skip_all` leaves out every argument, so {} has nothing to do; remove {} or `skip_all`",
                    list.display(),
                    list.display()
                ),
            ));
        }
    }

    // Which list each parameter name appears in, to reject a name in two lists.
    let mut listed: HashMap<String, &ArgList> = HashMap::new();
    for list in args.lists() {
        for name in &list.names {
            let text = name.unraw().to_string();
            if let Some(first) = listed.get(&text) {
                errors.push(syn::Error::new(
                    name.span(),
                    format!(
                        "`{text}` is already in {}; an argument goes in one list only: remove it from one of them",
                        first.display()
                    ),
                ));
                continue;
            }
            listed.insert(text, list);
            errors.check(check_listed(list, name, params));
        }
    }
    errors.finish()?;

    let default = if args.skip_all.is_some() || args.hash.is_some() {
        None
    } else {
        Some(Mode::Hashed)
    };
    let mut sent = Vec::new();
    for param in params {
        let ParamKind::Named { ident, pass } = &param.kind else {
            continue;
        };
        if param.has_cfg {
            continue;
        }
        let name = ident.unraw().to_string();
        let mode = match listed.get(&name).map(|list| list.key.to_string()) {
            Some(key) if key == "skip" => None,
            Some(key) if key == "hash" => Some(Mode::Hashed),
            Some(key) if key == "record" => Some(Mode::Recorded),
            // A generic or `impl Trait` argument is rarely a value worth hashing (a
            // callback, a reader, a `Source`) and cannot be hashed without a
            // `HashArg` bound: left out unless listed.
            _ if param.generic => None,
            _ => default,
        };
        if let Some(mode) = mode {
            sent.push(Sent {
                ident: ident.clone(),
                name,
                mode,
                span: param.span,
                pass: *pass,
            });
        }
    }
    Ok(sent)
}

fn check_name(name: &LitStr) -> syn::Result<()> {
    if name.value().trim().is_empty() {
        return Err(syn::Error::new(
            name.span(),
            "the event name cannot be empty; write a name, as in `name = \"load\"`, or remove `name` to use the function's name",
        ));
    }
    Ok(())
}

/// Checks that a name in `skip(..)`, `hash(..)` or `record(..)` is a parameter that list
/// can apply to.
fn check_listed(list: &ArgList, name: &Ident, params: &[Param]) -> syn::Result<()> {
    let text = name.unraw().to_string();
    let key = list.key.to_string();
    let found = params
        .iter()
        .find(|param| param.name().as_deref() == Some(text.as_str()));
    if let Some(param) = found {
        return match &param.kind {
            ParamKind::Receiver if key != "skip" => Err(syn::Error::new(
                name.span(),
                format!("`self` is never sent; remove it from {}", list.display()),
            )),
            ParamKind::Named { .. } if param.has_cfg && key != "skip" => Err(syn::Error::new(
                name.span(),
                format!(
                    "`{text}` has a `#[cfg]` attribute, so it may not exist in every build and cannot be sent; remove it from {}",
                    list.display()
                ),
            )),
            _ => Ok(()),
        };
    }
    let in_pattern = params.iter().any(|param| match &param.kind {
        ParamKind::Unnamed { bound } => bound.iter().any(|ident| ident.unraw() == text),
        _ => false,
    });
    if in_pattern {
        return Err(syn::Error::new(
            name.span(),
            format!(
                "`{text}` is bound inside a pattern, and only parameters written `name: Type` can be sent; take the parameter as `{text}: Type` and destructure it in the body, or remove `{text}`"
            ),
        ));
    }
    let names: Vec<String> = params
        .iter()
        .filter(|param| matches!(param.kind, ParamKind::Named { .. }))
        .filter_map(Param::name)
        .collect();
    let candidates: Vec<&str> = names.iter().map(String::as_str).collect();
    let message = if candidates.is_empty() {
        format!(
            "no parameter named `{text}`: this function has no named parameter to list; remove {}",
            list.display()
        )
    } else if let Some(near) = closest(&text, &candidates) {
        format!("no parameter named `{text}`; did you mean `{near}`?")
    } else {
        format!(
            "no parameter named `{text}`; the parameters are {}",
            candidates
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Err(syn::Error::new(name.span(), message))
}
