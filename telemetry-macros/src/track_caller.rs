//! The body of a `#[track_caller]` function, with its early exits rewritten so that it can
//! run in place instead of inside a closure.
//!
//! Other synchronous functions run their body in a closure so that `return` and `?` land
//! in the wrapper, which records the outcome. A closure cannot carry `#[track_caller]` on
//! stable Rust (rust-lang/rust#87417), so inside one `Location::caller()` and the panic
//! location of `unwrap()` would name the closure instead of the function's caller. For
//! these functions the body stays in the function, and:
//!
//! ```text
//! return EXPR      →  return { let __r: Ret = EXPR; <record outcome of &__r>; __r }
//! EXPR?            →  observe_try(&mut __guard, EXPR, always)?   // records a failure, then `?`
//! ```
//!
//! Closures, `async` blocks and nested items are not entered (their `return` and `?` are
//! their own). Macro invocations cannot be entered either: an early exit hidden inside a
//! macro (such as `anyhow::bail!`) is not seen, and the call is then recorded by the
//! guard's fallback when it is dropped.

use proc_macro2::TokenStream;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Item, Stmt};

/// Rewrites `return` and `?` in `stmts`.
///
/// `on_return(value)` gives the block that replaces the value of a `return`; `on_try(value)`
/// the expression that replaces the operand of a `?`.
pub(crate) fn rewrite_exits(
    stmts: &mut [Stmt],
    on_return: &dyn Fn(TokenStream) -> TokenStream,
    on_try: &dyn Fn(TokenStream) -> TokenStream,
) {
    let mut rewriter = Rewriter { on_return, on_try };
    for stmt in stmts {
        rewriter.visit_stmt_mut(stmt);
    }
}

struct Rewriter<'a> {
    on_return: &'a dyn Fn(TokenStream) -> TokenStream,
    on_try: &'a dyn Fn(TokenStream) -> TokenStream,
}

impl VisitMut for Rewriter<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            // Their `return` and `?` leave the closure or the block, not the function.
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            Expr::Return(ret) => {
                if let Some(value) = &mut ret.expr {
                    self.visit_expr_mut(value);
                }
                let value = ret
                    .expr
                    .as_ref()
                    .map_or_else(|| quote::quote!(()), |value| quote::quote!(#value));
                ret.expr = Some(Box::new(Expr::Verbatim((self.on_return)(value))));
            }
            Expr::Try(try_expr) => {
                self.visit_expr_mut(&mut try_expr.expr);
                let operand = &try_expr.expr;
                let observed = (self.on_try)(quote::quote!(#operand));
                *try_expr.expr = Expr::Verbatim(observed);
            }
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_item_mut(&mut self, _item: &mut Item) {
        // A nested function's exits are its own.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn rewrite(body: &str) -> String {
        let mut block: syn::Block = syn::parse_str(body).expect("test body parses");
        rewrite_exits(
            &mut block.stmts,
            &|value| quote!(RET(#value)),
            &|value| quote!(TRY(#value)),
        );
        quote!(#block).to_string()
    }

    #[test]
    fn rewrites_returns_and_question_marks() {
        assert_eq!(
            rewrite("{ if a { return 1; } let x = f()?; x }"),
            quote!({
                if a {
                    return RET(1);
                }
                let x = TRY(f())?;
                x
            })
            .to_string()
        );
        assert_eq!(
            rewrite("{ return; }"),
            quote!({
                return RET(());
            })
            .to_string()
        );
        assert_eq!(
            rewrite("{ return Ok(g()?); }"),
            quote!({
                return RET(Ok(TRY(g())?));
            })
            .to_string()
        );
    }

    #[test]
    fn leaves_closures_async_blocks_and_items_alone() {
        let body =
            "{ let c = || { return f()?; }; let a = async { g()? }; fn h() -> u8 { return 1; } c }";
        let expected: syn::Block = syn::parse_str(body).expect("parses");
        assert_eq!(rewrite(body), quote!(#expected).to_string());
    }
}
