//! Expansion tests: both modes, on token streams.
//!
//! The disabled expansion must be the input, token for token. The enabled expansion is
//! checked structurally here and, for a few representative functions, against insta
//! snapshots of the pretty-printed expansion in `telemetry-macros/snapshots/` (review a
//! change with `cargo insta review`, or accept every one with
//! `INSTA_UPDATE=always cargo test -p telemetry-macros`). Whether the enabled
//! expansion compiles, lints clean and behaves is tested in the `telemetry` crate
//! (`tests/macros_*.rs` and the trybuild cases in `trybuild/`).

#![allow(clippy::needless_pass_by_value, clippy::too_many_lines)]

use proc_macro2::TokenStream;
use quote::quote;

use crate::expand::tracked;
use crate::kind::Kind;

fn expand(kind: Kind, args: TokenStream, item: TokenStream, enabled: bool) -> String {
    tracked(kind, args, item, enabled).to_string()
}

fn enabled(args: TokenStream, item: TokenStream) -> String {
    expand(Kind::Step, args, item, true)
}

/// The messages of the `compile_error!`s in an expansion.
fn errors(args: TokenStream, item: TokenStream) -> Vec<String> {
    let out = tracked(Kind::Step, args, item, true);
    let mut found = Vec::new();
    let mut trees = out.into_iter().peekable();
    while let Some(tree) = trees.next() {
        if let proc_macro2::TokenTree::Ident(ident) = &tree {
            if ident == "compile_error" {
                // `compile_error` `!` `{ "message" }`
                let _bang = trees.next();
                if let Some(proc_macro2::TokenTree::Group(group)) = trees.next() {
                    let literal: syn::LitStr =
                        syn::parse2(group.stream()).expect("compile_error! holds a string");
                    found.push(literal.value());
                }
            }
        }
    }
    found
}

fn assert_one_error(args: TokenStream, item: TokenStream, expected: &str) {
    let found = errors(args.clone(), item.clone());
    assert!(
        found.len() == 1 && found[0].contains(expected),
        "for #[tracked_step({args})] on `{item}`:\nexpected one error containing {expected:?}\nfound {found:#?}"
    );
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// Items the attribute accepts, covering every supported shape.
fn supported_items() -> Vec<TokenStream> {
    vec![
        quote! { fn plain() {} },
        quote! {
            /// Docs are kept.
            #[inline]
            #[must_use]
            pub(crate) fn with_attrs(source: &str, n: u32) -> Result<u32, Error> { Ok(n) }
        },
        quote! { fn method(&self, x: u8) -> u8 { x } },
        quote! { fn method_mut(&mut self) -> &mut u8 { &mut self.x } },
        quote! { fn by_value(self) -> Self { self } },
        quote! { fn boxed(self: Box<Self>) {} },
        quote! { fn generic<T: HashArg, U>(t: T, u: impl Into<U>) -> U where U: Default { u.into() } },
        quote! { fn lifetimes<'a, 'b: 'a>(a: &'a str, b: &'b str) -> &'a str { a } },
        quote! { async fn run(url: &str) -> Result<(), Error> { fetch(url).await?; Ok(()) } },
        quote! { unsafe fn raw(p: *const u8) -> u8 { *p } },
        quote! { async unsafe fn both(p: *const u8) -> u8 { *p } },
        quote! { fn iter(n: u32) -> impl Iterator<Item = u32> { 0..n } },
        quote! { #[track_caller] fn caller(x: Option<u8>) -> u8 { x.unwrap() } },
        quote! { extern "C" fn ffi(x: i32) -> i32 { x } },
        quote! { fn never() -> ! { loop {} } },
        quote! { async fn never_async() -> ! { loop { tick().await; } } },
        quote! { fn patterns((a, b): (u8, u8), _: u8, Point { x, y }: Point) -> u8 { a + b + x + y } },
        quote! {
            fn from_async_trait<'life0, 'async_trait>(&'life0 self, x: u32)
                -> Pin<Box<dyn Future<Output = u32> + Send + 'async_trait>>
            where 'life0: 'async_trait, Self: 'async_trait
            {
                Box::pin(async move { let __self = self; let x = x; let __ret: u32 = { x }; __ret })
            }
        },
        quote! { fn inner_attrs() { #![allow(unused)] let x = 1; } },
    ]
}

#[test]
fn disabled_expansion_is_the_input_token_for_token() {
    let args = [
        quote!(),
        quote!(name = "renamed"),
        quote!(skip_all),
        quote!(crate = "renamed"),
        quote!(crate = ::reexport::telemetry, skip_all),
    ];
    for item in supported_items() {
        for args in &args {
            for kind in [Kind::Command, Kind::Step] {
                let out = tracked(kind, args.clone(), item.clone(), false);
                assert_eq!(out.to_string(), item.to_string(), "#[{args}] {item}");
            }
        }
    }
    let item = quote! { fn load(table: &str, rows: Vec<Row>, kind: Kind) -> usize { rows.len() } };
    let out = tracked(
        Kind::Step,
        quote!(skip(rows), record(kind)),
        item.clone(),
        false,
    );
    assert_eq!(out.to_string(), item.to_string());
}

#[test]
fn disabled_expansion_still_checks_arguments() {
    let item = quote! { fn load(table: &str) {} };
    let out = expand(Kind::Step, quote!(skip(rows)), item.clone(), false);
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("no parameter named `rows`"), "{out}");
    // The function is still emitted after the error.
    assert!(out.ends_with(&item.to_string()), "{out}");
    let out = expand(Kind::Step, quote!(crate = 5), item.clone(), false);
    assert!(out.contains("expected a path after `crate =`"), "{out}");
    assert!(out.ends_with(&item.to_string()), "{out}");
}

#[test]
fn enabled_expansion_keeps_the_header_and_the_block_once() {
    for item in supported_items() {
        let out = enabled(quote!(), item.clone());
        assert!(!out.contains("compile_error"), "{out}");
        // The header (everything before the body) is the input's, token for token.
        let trees: Vec<_> = item.clone().into_iter().collect();
        let header: TokenStream = trees[..trees.len() - 1].iter().cloned().collect();
        assert!(out.starts_with(&header.to_string()), "{out}");
        assert_eq!(count(&out, "CallGuard :: start"), 1, "{out}");
        assert_eq!(count(&out, "callsite !"), 1, "{out}");
    }
}

#[test]
fn the_user_block_appears_once() {
    let item = quote! { fn once(x: u8) -> u8 { let marker_unique = x; marker_unique } };
    let out = enabled(quote!(), item);
    assert_eq!(count(&out, "let marker_unique = x"), 1, "{out}");
    let item = quote! { async fn once(x: u8) -> u8 { let marker_unique = x; marker_unique } };
    let out = enabled(quote!(), item);
    assert_eq!(count(&out, "let marker_unique = x"), 1, "{out}");
}

#[test]
fn paths_are_absolute() {
    for item in supported_items() {
        let out = enabled(quote!(), item);
        assert!(
            out.contains(":: telemetry :: __private :: CallGuard"),
            "{out}"
        );
        for shadowable in ["core ::", "std ::"] {
            for (index, _) in out.match_indices(shadowable) {
                let before = &out[..index];
                assert!(
                    before.ends_with(":: telemetry :: __private :: ") || before.ends_with(":: "),
                    "relative `{shadowable}` path in {out}"
                );
            }
        }
    }
}

#[test]
fn the_crate_option_roots_every_path() {
    for (args, root) in [
        (quote!(crate = "renamed"), "renamed :: __private ::"),
        (quote!(crate = "::renamed"), ":: renamed :: __private ::"),
        (
            quote!(crate = my_sdk::telemetry),
            "my_sdk :: telemetry :: __private ::",
        ),
    ] {
        for item in supported_items() {
            let out = enabled(args.clone(), item);
            assert!(out.contains(&format!("{root} CallGuard")), "{out}");
            // Every runtime path is under the given root: none is left to `::telemetry`.
            for (index, _) in out.match_indices("__private ::") {
                assert!(out[..index + "__private ::".len()].ends_with(root), "{out}");
            }
            let telemetry_paths = out.matches("telemetry ::").count();
            let under_root = out.matches(root).count() * root.matches("telemetry ::").count();
            assert_eq!(telemetry_paths, under_root, "{out}");
            for shadowable in ["core ::", "std ::"] {
                for (index, _) in out.match_indices(shadowable) {
                    let before = &out[..index];
                    assert!(
                        before.ends_with(&format!("{root} ")) || before.ends_with(":: "),
                        "relative `{shadowable}` path in {out}"
                    );
                }
            }
        }
    }
}

#[test]
fn sync_functions_run_their_body_in_a_closure() {
    let out = enabled(quote!(), quote! { fn f(x: u8) -> u8 { x } });
    assert!(
        out.contains("CallGuard :: start (& __TELEMETRY_CALLSITE)"),
        "{out}"
    );
    assert!(out.contains("call_once (move || -> u8 { x })"), "{out}");
}

#[test]
fn async_functions_are_timed_across_awaits() {
    let out = enabled(
        quote!(),
        quote! { async fn f(x: u8) -> u8 { g().await; x } },
    );
    assert!(out.contains("CallGuard :: start_async"), "{out}");
    assert!(out.contains("Instrumented :: new (async move"), "{out}");
    assert!(out.contains(". context ()) . await"), "{out}");
    // The fake early return that gives the async block the function's type.
    assert!(out.contains("None :: < u8 >"), "{out}");
}

#[test]
fn impl_trait_is_erased_from_annotations() {
    let out = enabled(
        quote!(),
        quote! { fn f() -> Result<impl Display, E> { Ok(1) } },
    );
    assert!(
        out.contains("move || -> Result < _ , E > { Ok (1) }"),
        "{out}"
    );
    let out = enabled(quote!(), quote! { fn f() -> impl Display { 1 } });
    assert!(out.contains("move || { 1 }"), "{out}");
    let out = enabled(quote!(), quote! { async fn f() -> impl Display { 1 } });
    assert!(
        out.contains("Instrumented :: new (async move { 1 }"),
        "{out}"
    );
}

#[test]
fn async_trait_bodies_time_the_inner_future() {
    let item = quote! {
        fn run<'a>(&'a self) -> Pin<Box<dyn Future<Output = u8> + Send + 'a>> {
            Box::pin(async move { let marker_unique = 1; marker_unique })
        }
    };
    let out = enabled(quote!(), item);
    assert!(out.contains("Box :: pin (async move {"), "{out}");
    assert!(out.contains("CallGuard :: start_async"), "{out}");
    assert!(
        out.contains("Instrumented :: new (async move { let marker_unique = 1 ; marker_unique }"),
        "{out}"
    );
    assert_eq!(count(&out, "let marker_unique"), 1, "{out}");
}

#[test]
fn track_caller_functions_run_in_place() {
    let item = quote! {
        #[track_caller]
        fn f(x: Option<u8>) -> Result<u8, E> {
            if x.is_none() { return Err(E); }
            let y = g()?;
            let c = || -> Result<u8, E> { h()? ; return Ok(1); };
            Ok(y)
        }
    };
    let out = enabled(quote!(), item);
    assert!(!out.contains("call_once"), "{out}");
    assert_eq!(
        count(&out, "observe_try (& mut __telemetry_guard , g () , false)"),
        1,
        "{out}"
    );
    assert!(
        out.contains("return { let __telemetry_returned : Result < u8 , E > = Err (E) ;"),
        "{out}"
    );
    // The closure's `?` and `return` are its own.
    assert!(out.contains("h () ? ; return Ok (1) ;"), "{out}");
}

#[test]
fn arguments_are_hashed_by_default_and_self_never_sent() {
    let out = enabled(quote!(), quote! { fn f(&self, a: &str, b: u8) {} });
    assert!(
        out.contains("name : \"a\" , mode : :: telemetry :: __private :: ArgMode :: Hashed"),
        "{out}"
    );
    assert!(out.contains("name : \"b\""), "{out}");
    assert!(!out.contains("name : \"self\""), "{out}");
    // A reference is passed as a reborrow (its own address is never taken), a value by
    // reference.
    assert!(out.contains("hash_arg (0usize , & * a)"), "{out}");
    assert!(out.contains("hash_arg (1usize , & { b })"), "{out}");
    assert!(
        out.contains("let __telemetry_on = __telemetry_guard . is_active () ; if __telemetry_on {"),
        "{out}"
    );
    // Everything after the body decides on that copy: an inactive guard is forgotten.
    assert!(out.contains("if __telemetry_on { use"), "{out}");
    assert!(
        out.contains("CallGuard :: forget_inactive (__telemetry_guard)"),
        "{out}"
    );
}

#[test]
fn references_are_reborrowed_scalars_copied_and_other_values_borrowed() {
    let out = enabled(
        quote!(),
        quote! {
            fn f(a: &mut Vec<u8>, b: (&str), ref c: u8, d: Option<&str>, mut e: &'static str,
                 g: u64, h: bool, i: String, j: std::primitive::u8) {}
        },
    );
    assert!(out.contains("hash_arg (0usize , & * a)"), "{out}");
    assert!(out.contains("hash_arg (1usize , & * b)"), "{out}");
    // `ref c` binds a reference to the value: borrowed as it is.
    assert!(out.contains("hash_arg (2usize , & c)"), "{out}");
    assert!(out.contains("hash_arg (3usize , & d)"), "{out}");
    assert!(out.contains("hash_arg (4usize , & * e)"), "{out}");
    assert!(out.contains("hash_arg (5usize , & { g })"), "{out}");
    assert!(out.contains("hash_arg (6usize , & { h })"), "{out}");
    assert!(out.contains("hash_arg (7usize , & i)"), "{out}");
    // Only a scalar's plain name is known to be `Copy`.
    assert!(out.contains("hash_arg (8usize , & j)"), "{out}");
}

#[test]
fn options_choose_what_is_sent() {
    let item = quote! { fn f(a: u8, b: u8, c: u8, d: u8) {} };
    let out = enabled(quote!(skip(b)), item.clone());
    assert!(
        out.contains("name : \"a\"")
            && !out.contains("name : \"b\"")
            && out.contains("name : \"c\"")
    );
    let out = enabled(quote!(hash(a, c)), item.clone());
    assert!(
        out.contains("name : \"a\"")
            && !out.contains("name : \"b\"")
            && out.contains("name : \"c\"")
            && !out.contains("name : \"d\"")
    );
    let out = enabled(quote!(record(d)), item.clone());
    assert!(
        out.contains("name : \"d\" , mode : :: telemetry :: __private :: ArgMode :: Recorded"),
        "{out}"
    );
    assert!(out.contains("record_arg (3usize , & { d })"), "{out}");
    assert!(out.contains("hash_arg (0usize , & { a })"), "{out}");
    let out = enabled(quote!(hash(a), record(d)), item.clone());
    assert!(
        out.contains("hash_arg (0usize , & { a })")
            && out.contains("record_arg (1usize , & { d })"),
        "{out}"
    );
    assert!(!out.contains("name : \"b\""), "{out}");
    let out = enabled(quote!(skip_all), item);
    assert!(out.contains("& []"), "{out}");
    assert!(
        !out.contains("hash_arg")
            && !out.contains("record_arg")
            && !out.contains("if __telemetry_on {\n"),
        "{out}"
    );
}

#[test]
fn names_and_categories() {
    let out = expand(Kind::Command, quote!(), quote! { fn r#init() {} }, true);
    assert!(out.contains("Category :: Command , \"init\""), "{out}");
    let out = expand(
        Kind::Step,
        quote!(name = "load"),
        quote! { fn load_rows() {} },
        true,
    );
    assert!(out.contains("Category :: Step , \"load\""), "{out}");
}

#[test]
fn patterns_and_cfg_parameters_are_not_sent() {
    let item = quote! { fn f((a, b): (u8, u8), _: u8, #[cfg(unix)] c: u8, d: u8) {} };
    let out = enabled(quote!(), item);
    assert!(out.contains("name : \"d\""), "{out}");
    for name in ["a", "b", "c", "_"] {
        assert!(
            !out.contains(&format!("name : \"{name}\"")),
            "{name}: {out}"
        );
    }
}

#[test]
fn misuse_is_reported_on_the_offending_token() {
    let item = quote! { fn load(table: &str, rows: Vec<Row>) {} };
    assert_one_error(
        quote!(nmae = "x"),
        item.clone(),
        "unknown option `nmae`; did you mean `name`?",
    );
    assert_one_error(
        quote!(verbose),
        item.clone(),
        "unknown option `verbose`; expected one of `name = \"...\"`",
    );
    assert_one_error(
        quote!(skip(rows), skip(table)),
        item.clone(),
        "duplicate option `skip`",
    );
    assert_one_error(
        quote!(name = "a", name = "b"),
        item.clone(),
        "duplicate option `name`",
    );
    assert_one_error(
        quote!(skip(row)),
        item.clone(),
        "no parameter named `row`; did you mean `rows`?",
    );
    assert_one_error(
        quote!(hash(nothing_like_it)),
        item.clone(),
        "no parameter named `nothing_like_it`; the parameters are `table`, `rows`",
    );
    assert_one_error(
        quote!(skip(rows), hash(rows)),
        item.clone(),
        "`rows` is already in `skip(..)`",
    );
    assert_one_error(
        quote!(skip(rows, rows)),
        item.clone(),
        "`rows` is listed twice in `skip(..)`",
    );
    assert_one_error(
        quote!(skip_all, skip(rows)),
        item.clone(),
        "`skip_all` leaves out every argument",
    );
    assert_one_error(
        quote!(name = ""),
        item.clone(),
        "the event name cannot be empty",
    );
    assert_one_error(
        quote!(name = load),
        item.clone(),
        "expected a string literal after `name =`; write `name = \"load\"`",
    );
    assert_one_error(
        quote!("load"),
        item.clone(),
        "to name the event, write `name = \"load\"`",
    );
    assert_one_error(
        quote!(skip = rows),
        item.clone(),
        "`skip` takes a list of parameter names",
    );
    assert_one_error(quote!(skip()), item.clone(), "`skip()` names no parameter");
    assert_one_error(
        quote!(skip_all(rows)),
        item.clone(),
        "`skip_all` takes no value",
    );
    assert_one_error(
        quote!(hash(self)),
        quote! { fn m(&self) {} },
        "`self` is never sent",
    );
    assert_one_error(
        quote!(record(x)),
        quote! { fn m((x, y): (u8, u8)) {} },
        "`x` is bound inside a pattern",
    );
    assert_one_error(
        quote!(),
        quote! { const fn f() {} },
        "cannot be used on a `const fn`",
    );
    assert_one_error(
        quote!(),
        quote! { struct S; },
        "can only be used on functions, not on a struct",
    );
    assert_one_error(
        quote!(),
        quote! { impl S {} },
        "goes on each function, not on an `impl` block",
    );
    assert_one_error(
        quote!(),
        quote! { fn declared(&self); },
        "needs a function body",
    );
    assert_one_error(
        quote!(),
        quote! { #[tracked_command] fn twice() {} },
        "a function can be tracked once",
    );
    assert_one_error(
        quote!(crat = "renamed"),
        item.clone(),
        "unknown option `crat`; did you mean `crate`?",
    );
    assert_one_error(
        quote!(crate = 5),
        item.clone(),
        "expected a path after `crate =`; write the name your `Cargo.toml` gives the telemetry dependency, as in `crate = \"my_telemetry\"`",
    );
    assert_one_error(
        quote!(crate = "my telemetry"),
        item.clone(),
        "\"my telemetry\" is not a path; write the name",
    );
    assert_one_error(quote!(crate = ""), item.clone(), "\"\" is not a path");
    assert_one_error(
        quote!(crate = "a::<T>"),
        item.clone(),
        "\"a::<T>\" is not a path",
    );
    assert_one_error(
        quote!(crate),
        item.clone(),
        "`crate` takes the path of the telemetry crate",
    );
    assert_one_error(
        quote!(crate("renamed")),
        item.clone(),
        "`crate` takes the path of the telemetry crate",
    );
    assert_one_error(
        quote!(crate = "a", crate = "b"),
        item.clone(),
        "duplicate option `crate`",
    );
    // `skip(self)` is accepted: `self` is never sent anyway.
    assert!(errors(quote!(skip(self)), quote! { fn m(&self) {} }).is_empty());
}

#[test]
fn several_misuses_are_reported_together() {
    let found = errors(
        quote!(nmae = "x", skip(nope), skip(again)),
        quote! { fn load(table: &str) {} },
    );
    assert_eq!(found.len(), 2, "{found:#?}");
    let found = errors(
        quote!(skip(nope), hash(other)),
        quote! { fn load(table: &str) {} },
    );
    assert_eq!(found.len(), 2, "{found:#?}");
}

/// `tokens`, which must be items, formatted as rustfmt would.
fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("the tokens parse as items");
    prettyplease::unparse(&file)
}

#[test]
fn snapshots() {
    let cases = [
        (
            "sync",
            Kind::Command,
            quote!(hash(source), record(destination)),
            quote! {
                /// Copies a source into a destination.
                pub fn init(source: &str, destination: &str, verbose: bool) -> Result<(), Error> {
                    copy(source, destination)?;
                    Ok(())
                }
            },
        ),
        (
            "async",
            Kind::Step,
            quote!(name = "load", skip(rows)),
            quote! {
                async fn load_rows(&self, table: &str, rows: Vec<Row>) -> Result<usize, Error> {
                    self.db.insert(table, &rows).await?;
                    Ok(rows.len())
                }
            },
        ),
        (
            "track_caller",
            Kind::Step,
            quote!(),
            quote! {
                #[track_caller]
                fn parse(text: &str) -> Result<u32, ParseIntError> {
                    if text.is_empty() {
                        return Ok(0);
                    }
                    let n = text.parse::<u32>()?;
                    Ok(n)
                }
            },
        ),
        (
            "async_trait",
            Kind::Step,
            quote!(),
            quote! {
                fn fetch<'life0, 'async_trait>(&'life0 self, url: String)
                    -> Pin<Box<dyn Future<Output = Vec<u8>> + Send + 'async_trait>>
                where 'life0: 'async_trait, Self: 'async_trait
                {
                    Box::pin(async move { let __self = self; let url = url; __self.get(url).await })
                }
            },
        ),
    ];
    for (name, kind, args, item) in cases {
        let attribute = match kind {
            Kind::Command => "tracked_command",
            Kind::Step => "tracked_step",
        };
        // The attribute, shown above its expansion (whose header is the input's) in the
        // `.snap` file and in `cargo insta review`.
        let description = if args.is_empty() {
            format!("#[{attribute}]")
        } else {
            format!("#[{attribute}({args})]")
        };
        let pretty = pretty(tracked(kind, args, item, true));
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("../snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.set_description(description);
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(name, pretty));
    }
}

#[test]
fn odd_input_is_an_error_never_a_panic() {
    let items = [
        quote!(),
        quote!(fn),
        quote!(fn f),
        quote!(fn f() -> {}),
        quote!(pub),
        quote!(#[doc = "x"]),
        quote!(
            fn f() {}
            fn g() {}
        ),
        quote!(fn f() { #![] }),
        quote!(
            macro_rules! m {
                () => {};
            }
        ),
        quote!(
            const X: u8 = 1;
        ),
    ];
    for item in items {
        let out = tracked(Kind::Step, quote!(), item.clone(), true).to_string();
        assert!(out.contains("compile_error"), "{item} gave {out}");
    }
    let args = [
        quote!(,),
        quote!(name),
        quote!(name =),
        quote!(skip(a b)),
        quote!(skip(,)),
        quote!(= 1),
        quote!(skip(x) hash(x)),
        quote!(name = "x" name = "y"),
        quote!(skip[x]),
        quote!(skip_all = true),
        quote!(1),
        quote!(crate =),
        quote!(crate = ,),
        quote!(crate = 'a'),
        quote!(crate = "a" "b"),
    ];
    for args in args {
        let out = enabled(args.clone(), quote! { fn f(x: u8) {} });
        assert!(out.contains("compile_error"), "{args} gave {out}");
    }
}

#[test]
fn a_body_syn_cannot_parse_is_left_to_rustc() {
    // Expanded with the closure strategy; rustc reports the syntax error in the body.
    let out = enabled(quote!(), quote! { fn f(x: u8) { let = x; } });
    assert!(!out.contains("compile_error"), "{out}");
    assert!(
        out.contains("call_once (move || -> () { let = x ; })"),
        "{out}"
    );
}
