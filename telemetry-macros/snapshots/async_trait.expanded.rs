fn fetch<'life0, 'async_trait>(
    &'life0 self,
    url: String,
) -> Pin<Box<dyn Future<Output = Vec<u8>> + Send + 'async_trait>>
where
    'life0: 'async_trait,
    Self: 'async_trait,
{
    Box::pin(async move {
        let mut __telemetry_guard = {
            ::telemetry::__private::callsite! {
                static __TELEMETRY_CALLSITE =
                ::telemetry::__private::Callsite::new(::telemetry::__private::Category::Step,
                "fetch", & [::telemetry::__private::ArgSpec { name : "url", mode :
                ::telemetry::__private::ArgMode::Hashed }],
                ::telemetry::__private::core::module_path!(),
                ::telemetry::__private::core::file!(),
                ::telemetry::__private::core::line!(),);
            }
            ::telemetry::__private::CallGuard::start_async(&__TELEMETRY_CALLSITE)
        };
        let __telemetry_on = __telemetry_guard.is_active();
        if __telemetry_on {
            __telemetry_guard.hash_arg(0usize, &url);
        }
        let __telemetry_ret = ::telemetry::__private::Instrumented::new(
                async move {
                    let __self = self;
                    let url = url;
                    __self.get(url).await
                },
                __telemetry_guard.context(),
            )
            .await;
        if __telemetry_on {
            use ::telemetry::__private::{
                MessageFallback as _, MessageViaDisplay as _, ViaFallback as _,
                ViaOutcome as _,
            };
            let __telemetry_probe = ::telemetry::__private::Probe(&__telemetry_ret);
            __telemetry_guard
                .finish(
                    (&__telemetry_probe).__telemetry_outcome(),
                    || (&__telemetry_probe).__telemetry_message(),
                );
        } else {
            ::telemetry::__private::CallGuard::forget_inactive(__telemetry_guard);
        }
        __telemetry_ret
    })
}
