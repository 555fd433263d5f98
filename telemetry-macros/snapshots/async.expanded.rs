async fn load_rows(&self, table: &str, rows: Vec<Row>) -> Result<usize, Error> {
    let mut __telemetry_guard = {
        ::telemetry::__private::callsite! {
            static __TELEMETRY_CALLSITE =
            ::telemetry::__private::Callsite::new(::telemetry::__private::Category::Step,
            "load", & [::telemetry::__private::ArgSpec { name : "table", mode :
            ::telemetry::__private::ArgMode::Hashed }],
            ::telemetry::__private::core::module_path!(),
            ::telemetry::__private::core::file!(),
            ::telemetry::__private::core::line!(),);
        }
        ::telemetry::__private::CallGuard::start_async(&__TELEMETRY_CALLSITE)
    };
    let __telemetry_on = __telemetry_guard.is_active();
    if __telemetry_on {
        __telemetry_guard.hash_arg(0usize, &*table);
    }
    let __telemetry_ret: Result<usize, Error> = ::telemetry::__private::Instrumented::new(
            async move {
                if let ::telemetry::__private::core::option::Option::Some(
                    __telemetry_inner_ret,
                ) = ::telemetry::__private::core::option::Option::None::<
                    Result<usize, Error>,
                > {
                    return __telemetry_inner_ret;
                }
                match () {
                    () => {
                        self.db.insert(table, &rows).await?;
                        Ok(rows.len())
                    }
                }
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
}
