//! Code generation.
//!
//! The function keeps its header token for token (attributes, visibility, signature);
//! only the body is replaced. The user's block appears exactly once in the output, with
//! its own braces and spans, so type errors in it point at the user's code and
//! item-level lints keep firing. Generated locals are created at `Span::mixed_site()`, so
//! they can neither capture nor be captured by the user's names.
//!
//! The body shapes, chosen by [`Strategy`]:
//!
//! ```text
//! // Sync (default): the body runs in a closure so `return` and `?` come back here.
//! let mut __guard = { callsite!{ static CALLSITE = ..; } CallGuard::start(&CALLSITE) };
//! let __on = __guard.is_active();
//! if __on { __guard.hash_arg(0, &source); __guard.record_arg(1, &kind); }
//! let __ret = call_once(move || -> Ret { user body });
//! if __on { let __probe = Probe(&__ret); __guard.finish(<outcome of __probe>, <message>); }
//! else { CallGuard::forget_inactive(__guard); }
//! __ret
//!
//! // async fn: timed from the first poll to completion, across every `.await`.
//! let mut __guard = { ..; CallGuard::start_async(&CALLSITE) };  // hashing as above
//! let __ret: Ret = Instrumented::new(async move {
//!     if let Some(__r) = None::<Ret> { return __r; }   // types the block like the fn
//!     match () { () => { user body } }                    // see `arm`
//! }, __guard.context()).await;
//! // finish as above
//!
//! // #[track_caller] (see `track_caller.rs`): no closure; early exits rewritten.
//! let __ret: Ret = match () { () => { user body, `return`/`?` rewritten } };
//! // finish as above, then `return __ret;` (both allowed if unreachable)
//!
//! // Non-async fn returning `Box::pin(async move { .. })` (see `async_body.rs`): the
//! // async block is wrapped as for an async fn, inside `Box::pin(..)`.
//!
//! // `-> !`: guard and hashing, then the user's statements; only a panic ends it.
//! ```
//!
//! `Ret` is the declared return type with every `impl Trait` replaced by `_` (an
//! `impl Trait` cannot be written in a `let`); when nothing is left but `_`, no
//! annotation is written.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{ReturnType, Type};

use crate::args::{self, Args};
use crate::error::Errors;
use crate::item::{self, TrackedFn};
use crate::kind::Kind;
use crate::params::{self, Mode, Pass, Sent};
use crate::paths::Paths;
use crate::plan;
use crate::{async_body, track_caller};

/// Expands one attribute. With `enabled` false the arguments are still checked, and the
/// item comes back unchanged. On error, the error comes with the item unchanged, so that
/// the rest of the crate (and an IDE) still sees the function.
pub(crate) fn tracked(
    kind: Kind,
    args: TokenStream,
    item: TokenStream,
    enabled: bool,
) -> TokenStream {
    match try_tracked(kind, args, item.clone(), enabled) {
        Ok(tokens) => tokens,
        Err(error) => {
            let mut tokens = error.to_compile_error();
            tokens.extend(item);
            tokens
        }
    }
}

fn try_tracked(
    kind: Kind,
    args: TokenStream,
    item: TokenStream,
    enabled: bool,
) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let args = errors.check(args::parse(args));
    let function = errors.check(item::parse(kind, item.clone()));
    errors.finish()?;
    let (Some(args), Some(function)) = (args, function) else {
        // `finish` returned every error; both are present here.
        return Ok(item);
    };
    item::reject_main_with_init(kind, &function, args.krate.as_ref())?;
    let sent = plan::plan(&args, &params::params(&function.sig))?;
    if !enabled {
        return Ok(item);
    }
    Ok(expand(kind, &args, &function, &sent))
}

/// How the body is wrapped.
enum Strategy {
    /// `async fn`.
    AsyncFn,
    /// A sync function returning `Box::pin(async ..)` or `async ..`: the future is timed.
    ReturnedFuture(Vec<syn::Stmt>),
    /// `-> !` (also `async`): the body runs in place; only a panic (or, for an
    /// `async fn`, dropping its future) ends the call.
    Never,
    /// `#[track_caller]`: the body runs in place with its exits rewritten.
    InPlace(Vec<syn::Stmt>),
    /// Everything else: the body runs in a closure.
    Closure,
}

/// Generated local names, all at `Span::mixed_site()`.
struct Locals {
    guard: Ident,
    /// Whether the guard was active when the call started: a local the optimizer keeps in
    /// a register, so a call made while telemetry is off decides everything after the
    /// body on it rather than on the guard's state in memory (see [`finish_call`]).
    on: Ident,
    ret: Ident,
    inner_ret: Ident,
    probe: Ident,
}

impl Locals {
    fn new() -> Self {
        let local = |name: &str| Ident::new(name, Span::mixed_site());
        Locals {
            guard: local("__telemetry_guard"),
            on: local("__telemetry_on"),
            ret: local("__telemetry_ret"),
            inner_ret: local("__telemetry_inner_ret"),
            probe: local("__telemetry_probe"),
        }
    }
}

fn expand(kind: Kind, args: &Args, function: &TrackedFn, sent: &[Sent]) -> TokenStream {
    let strategy = choose(function);
    let locals = Locals::new();
    let paths = Paths::new(args.krate.as_ref());
    let name = match &args.name {
        Some(name) => name.value(),
        None => function.sig.ident.unraw().to_string(),
    };
    let is_async =
        function.sig.asyncness.is_some() || matches!(strategy, Strategy::ReturnedFuture(_));
    let parts = Parts {
        start: start_guard(kind, &name, sent, is_async, &locals, &paths),
        sends: send_args(sent, &locals, &paths),
        finish: finish_call(&locals.ret, &locals, &paths, args),
        annotation: return_annotation(&function.sig),
        function,
        locals,
        paths,
        args,
    };
    let statements = match strategy {
        Strategy::Closure => parts.closure(),
        Strategy::AsyncFn => parts.async_fn(),
        Strategy::ReturnedFuture(stmts) => parts.returned_future(stmts),
        Strategy::Never => parts.never(),
        Strategy::InPlace(stmts) => parts.in_place(stmts),
    };
    let inner_attrs = &function.body.inner_attrs;
    let body = braced(
        quote! {
            #(#inner_attrs)*
            #statements
        },
        function.body.brace_span,
    );
    let header = &function.header;
    quote!(#header #body)
}

/// `match () { () => { body } }`: the user's block where neither `unused_braces` (a
/// one-line block as the tail of another block) nor `clippy::diverging_sub_expression`
/// (a one-expression block that never returns, as a `let` initializer) looks at it.
/// Arm bodies are exempt from both.
fn arm(block: &Group) -> TokenStream {
    quote!(match () { () => #block })
}

/// `{ tokens }`, with the braces at `span`.
fn braced(tokens: TokenStream, span: Span) -> Group {
    let mut group = Group::new(Delimiter::Brace, tokens);
    group.set_span(span);
    group
}

/// The pieces every strategy assembles.
struct Parts<'a> {
    /// Declares the callsite and starts the guard.
    start: TokenStream,
    /// Hashes and records the arguments.
    sends: TokenStream,
    /// Records the outcome of `__telemetry_ret`.
    finish: TokenStream,
    /// The declared return type, `impl Trait` erased (see [`return_annotation`]).
    annotation: Option<Type>,
    function: &'a TrackedFn,
    locals: Locals,
    /// The runtime's paths, under `::telemetry` or the `crate = ..` root.
    paths: Paths,
    /// The attribute's options.
    args: &'a Args,
}

impl Parts<'_> {
    /// The user's block, with its own braces.
    fn user_block(&self) -> Group {
        braced(
            self.function.body.tokens.clone(),
            self.function.body.brace_span,
        )
    }

    fn closure(&self) -> TokenStream {
        let Parts {
            start,
            sends,
            finish,
            ..
        } = self;
        let private = self.paths.private();
        let ret = &self.locals.ret;
        let block = self.user_block();
        // The closure's return type is written out: `return`s and the tail coerce to it
        // and `?` converts to it, exactly as in the function.
        let annotation = self.annotation.as_ref().map(|ty| quote!(-> #ty));
        quote! {
            #start
            #sends
            let #ret = #private::call_once(move || #annotation #block);
            #finish
            #ret
        }
    }

    fn async_fn(&self) -> TokenStream {
        let Parts {
            start,
            sends,
            finish,
            ..
        } = self;
        let private = self.paths.private();
        let (ret, guard) = (&self.locals.ret, &self.locals.guard);
        let future = typed_future(
            &self.user_block(),
            self.annotation.as_ref(),
            &self.locals,
            &self.paths,
        );
        let annotation = self.annotation.as_ref().map(|ty| quote!(: #ty));
        quote! {
            #start
            #sends
            let #ret #annotation = #private::Instrumented::new(#future, #guard.context()).await;
            #finish
            #ret
        }
    }

    fn returned_future(&self, mut stmts: Vec<syn::Stmt>) -> TokenStream {
        let Parts {
            start,
            sends,
            finish,
            ..
        } = self;
        let private = self.paths.private();
        let (ret, guard) = (&self.locals.ret, &self.locals.guard);
        if let Some(future) = async_body::tail_future(&mut stmts) {
            let inner = future.to_token_stream();
            *future = syn::Expr::Verbatim(quote! {
                async move {
                    #start
                    #sends
                    let #ret = #private::Instrumented::new(#inner, #guard.context()).await;
                    #finish
                    #ret
                }
            });
        }
        quote!(#(#stmts)*)
    }

    fn never(&self) -> TokenStream {
        let Parts { start, sends, .. } = self;
        let body = &self.function.body.tokens;
        let on = &self.locals.on;
        quote! {
            #start
            #sends
            let _ = #on;
            #body
        }
    }

    fn in_place(&self, mut stmts: Vec<syn::Stmt>) -> TokenStream {
        let Parts {
            start,
            sends,
            finish,
            ..
        } = self;
        let private = self.paths.private();
        let (ret, guard) = (&self.locals.ret, &self.locals.guard);
        let returned = Ident::new("__telemetry_returned", Span::mixed_site());
        let finish_returned = finish_call(&returned, &self.locals, &self.paths, self.args);
        let typed = self.annotation.as_ref().map(|ty| quote!(: #ty));
        let on_return = |value: TokenStream| {
            quote! {{
                let #returned #typed = #value;
                #finish_returned
                #returned
            }}
        };
        // A generic function, not the probe: the operand's type may not be known yet
        // here (`"1".parse()?`, inferred from a later use), and a probe must know it.
        let always = self.args.success_always.is_some();
        let on_try =
            |value: TokenStream| quote!(#private::observe_try(&mut #guard, #value, #always));
        track_caller::rewrite_exits(&mut stmts, &on_return, &on_try);
        let block = arm(&braced(quote!(#(#stmts)*), self.function.body.brace_span));
        let allow = allow_lints();
        quote! {
            #start
            #sends
            let #ret #typed = #block;
            #allow
            #finish
            #allow
            return #ret;
        }
    }
}

fn choose(function: &TrackedFn) -> Strategy {
    // First: `!` cannot be written in a `let` or a turbofish on stable Rust.
    if matches!(&function.sig.output, ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_))) {
        return Strategy::Never;
    }
    if function.sig.asyncness.is_some() {
        return Strategy::AsyncFn;
    }
    if let Some(stmts) = &function.body.stmts {
        let mut stmts = stmts.clone();
        if async_body::tail_future(&mut stmts).is_some() {
            return Strategy::ReturnedFuture(stmts);
        }
    }
    if function.has_track_caller() {
        if let Some(stmts) = &function.body.stmts {
            return Strategy::InPlace(stmts.clone());
        }
    }
    Strategy::Closure
}

/// `let mut __guard = { <callsite static>; CallGuard::start(&CALLSITE) };`
fn start_guard(
    kind: Kind,
    name: &str,
    sent: &[Sent],
    is_async: bool,
    locals: &Locals,
    paths: &Paths,
) -> TokenStream {
    let private = paths.private();
    let core = paths.core();
    let guard = &locals.guard;
    let category = match kind {
        Kind::Command => quote!(#private::Category::Command),
        Kind::Step => quote!(#private::Category::Step),
    };
    let specs = sent.iter().map(|arg| {
        let name = &arg.name;
        let mode = match arg.mode {
            Mode::Hashed => quote!(#private::ArgMode::Hashed),
            Mode::Recorded => quote!(#private::ArgMode::Recorded),
        };
        quote!(#private::ArgSpec { name: #name, mode: #mode })
    });
    let start = if is_async {
        quote!(start_async)
    } else {
        quote!(start)
    };
    quote! {
        let mut #guard = {
            #private::callsite! {
                static __TELEMETRY_CALLSITE = #private::Callsite::new(
                    #category,
                    #name,
                    &[#(#specs),*],
                    #core::module_path!(),
                    #core::file!(),
                    #core::line!(),
                );
            }
            #private::CallGuard::#start(&__TELEMETRY_CALLSITE)
        };
    }
}

/// Notes whether the call is being recorded, and then hashes or records each sent
/// argument, only if it is.
///
/// Each call is spanned on its parameter, so that "cannot be hashed" and "not
/// serializable" errors underline the parameter in the signature. A recorded argument is
/// first checked not to be a path (`__private::RecordProbe`): a compile-time check that
/// leaves no code.
fn send_args(sent: &[Sent], locals: &Locals, paths: &Paths) -> TokenStream {
    let private = paths.private();
    let (guard, on) = (&locals.guard, &locals.on);
    let is_on = quote!(let #on = #guard.is_active(););
    if sent.is_empty() {
        return is_on;
    }
    let calls = sent.iter().enumerate().map(|(index, arg)| {
        let ident = &arg.ident;
        let method = match arg.mode {
            Mode::Hashed => Ident::new("hash_arg", arg.span),
            Mode::Recorded => Ident::new("record_arg", arg.span),
        };
        // Never the parameter's own address when it can be helped: see `Pass`.
        let reference = match arg.pass {
            Pass::Borrow => quote_spanned!(arg.span=> &#ident),
            Pass::Reborrow => quote_spanned!(arg.span=> &*#ident),
            Pass::Copy => quote_spanned!(arg.span=> &{ #ident }),
        };
        let check = (arg.mode == Mode::Recorded).then(|| {
            quote_spanned! {arg.span=>
                #private::recordable((&&#private::RecordProbe(#reference)).__telemetry_record_check());
            }
        });
        quote!(#check #guard.#method(#index, #reference);)
    });
    let uses = sent
        .iter()
        .any(|arg| arg.mode == Mode::Recorded)
        .then(|| quote!(use #private::{RecordAnyCheck as _, RecordPathCheck as _};));
    quote! {
        #is_on
        if #on {
            #uses
            #(#calls)*
        }
    }
}

/// Records the outcome of the value in `value`: by default the most specific of
/// `ErrorKind` (for a `Result` whose error has it), `Outcome`, and success (see
/// `__private::Probe`); with `error_kind = f`, `f` names the error of a `Result`; with
/// `success = "always"`, success. The error's message only when the host opted in.
///
/// A guard that was not active when the call started never becomes active, so it is
/// then forgotten rather than dropped: deciding on `__telemetry_on`, a call made while
/// telemetry is off reads nothing back from the guard after its body (a store of the
/// guard's state and two loads of it, otherwise, which cost such a call with arguments
/// about 0.4 ns).
fn finish_call(value: &Ident, locals: &Locals, paths: &Paths, args: &Args) -> TokenStream {
    let private = paths.private();
    let (guard, on) = (&locals.guard, &locals.on);
    let probe = &locals.probe;
    let outcome = if args.success_always.is_some() {
        quote!(#private::always_success(&#value))
    } else if let Some(kind) = &args.error_kind {
        // Spanned on the option: a function that does not fit, or a return type that is
        // not a `Result`, is reported there.
        quote_spanned!(kind.span()=> #private::with_error_kind(&#value, #kind))
    } else {
        quote!((&&&#probe).__telemetry_outcome())
    };
    let uses = probe_traits(paths);
    quote! {
        if #on {
            #uses
            let #probe = #private::Probe(&#value);
            #guard.finish(
                #outcome,
                || (&#probe).__telemetry_message(),
            );
        } else {
            #private::CallGuard::forget_inactive(#guard);
        }
    }
}

/// Brings the probe's traits into scope (see `__private::Probe`).
fn probe_traits(paths: &Paths) -> TokenStream {
    let private = paths.private();
    quote! {
        use #private::{
            MessageFallback as _, MessageViaDisplay as _, ViaErrorKind as _, ViaFallback as _,
            ViaOutcome as _,
        };
    }
}

/// `async move { if let Some(r) = None::<Ret> { return r; } match () { () => { body } } }`.
///
/// The unreachable early `return` gives the block the function's return type before the
/// body is checked, so `?` converts errors and `return`s coerce exactly as in the
/// original `async fn`, and type errors point at the user's code. Without a type to give
/// (an `impl Trait` return), the user's block is the async block.
fn typed_future(
    block: &Group,
    annotation: Option<&Type>,
    locals: &Locals,
    paths: &Paths,
) -> TokenStream {
    let core = paths.core();
    let Some(ty) = annotation else {
        return quote!(async move #block);
    };
    // rustc explains a mismatch with "return type inferred to be `T` here", pointing at
    // this `return`: locate it at the declared return type.
    let typed = Ident::new(
        &locals.inner_ret.to_string(),
        Span::mixed_site().located_at(ty.span()),
    );
    let body = arm(block);
    quote! {
        async move {
            if let #core::option::Option::Some(#typed) = #core::option::Option::None::<#ty> {
                return #typed;
            }
            #body
        }
    }
}

/// The declared return type with `impl Trait` replaced by `_`, or `None` when that
/// leaves only `_`. `()` when the function declares no return type.
fn return_annotation(sig: &syn::Signature) -> Option<Type> {
    let mut ty = match &sig.output {
        // Located where `-> T` would be written, for "expected `()`" notes.
        ReturnType::Default => {
            return Some(syn::parse_quote_spanned!(sig.paren_token.span.close()=> ()))
        }
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    EraseImplTrait.visit_type_mut(&mut ty);
    if matches!(ty, Type::Infer(_)) {
        None
    } else {
        Some(ty)
    }
}

/// Replaces `impl Trait` with `_`: it is not allowed in a `let` (tokio-rs/tracing#1227).
struct EraseImplTrait;

impl VisitMut for EraseImplTrait {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(impl_trait) = ty {
            let underscore = syn::Token![_](impl_trait.impl_token.span);
            *ty = Type::Infer(syn::TypeInfer {
                attrs: Vec::new(),
                underscore_token: underscore,
            });
            return;
        }
        visit_mut::visit_type_mut(self, ty);
    }
}

/// The lints generated statements may trigger: the one place they are listed.
///
/// Almost nothing needs allowing: rustc and clippy do not report most lints on code an
/// external macro produced (`Span`s from the expansion), and the user's own tokens keep
/// their lints. The exception is `unreachable_code`, reported on the generated
/// statements that follow a body which never returns normally (`panic!()`, a `loop`
/// left only by `return`). The attribute goes on those statements only, never on one
/// holding the user's block, so the user's own unreachable code is still reported.
fn allow_lints() -> TokenStream {
    quote!(#[allow(unreachable_code)])
}
