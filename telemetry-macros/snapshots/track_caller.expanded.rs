#[track_caller]
fn parse(text: &str) -> Result<u32, ParseIntError> {
    let mut __telemetry_guard = {
        ::telemetry::__private::callsite! {
            static __TELEMETRY_CALLSITE =
            ::telemetry::__private::Callsite::new(::telemetry::__private::Category::Step,
            "parse", & [::telemetry::__private::ArgSpec { name : "text", mode :
            ::telemetry::__private::ArgMode::Hashed }],
            ::telemetry::__private::core::module_path!(),
            ::telemetry::__private::core::file!(),
            ::telemetry::__private::core::line!(),);
        }
        ::telemetry::__private::CallGuard::start(&__TELEMETRY_CALLSITE)
    };
    let __telemetry_on = __telemetry_guard.is_active();
    if __telemetry_on {
        __telemetry_guard.hash_arg(0usize, &*text);
    }
    let __telemetry_ret: Result<u32, ParseIntError> = match () {
        () => {
            if text.is_empty() {
                return {
                    let __telemetry_returned: Result<u32, ParseIntError> = Ok(0);
                    if __telemetry_on {
                        use ::telemetry::__private::{
                            MessageFallback as _, MessageViaDisplay as _,
                            ViaFallback as _, ViaOutcome as _,
                        };
                        let __telemetry_probe = ::telemetry::__private::Probe(
                            &__telemetry_returned,
                        );
                        __telemetry_guard
                            .finish(
                                (&__telemetry_probe).__telemetry_outcome(),
                                || (&__telemetry_probe).__telemetry_message(),
                            );
                    } else {
                        ::telemetry::__private::CallGuard::forget_inactive(
                            __telemetry_guard,
                        );
                    }
                    __telemetry_returned
                };
            }
            let n = ::telemetry::__private::observe_try(
                &mut __telemetry_guard,
                text.parse::<u32>(),
            )?;
            Ok(n)
        }
    };
    #[allow(unreachable_code)]
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
    #[allow(unreachable_code)] return __telemetry_ret;
}
