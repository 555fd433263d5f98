/// Copies a source into a destination.
pub fn init(source: &str, destination: &str, verbose: bool) -> Result<(), Error> {
    let mut __telemetry_guard = {
        ::telemetry::__private::callsite! {
            static __TELEMETRY_CALLSITE =
            ::telemetry::__private::Callsite::new(::telemetry::__private::Category::Command,
            "init", & [::telemetry::__private::ArgSpec { name : "source", mode :
            ::telemetry::__private::ArgMode::Hashed }, ::telemetry::__private::ArgSpec {
            name : "destination", mode : ::telemetry::__private::ArgMode::Recorded }],
            ::telemetry::__private::core::module_path!(),
            ::telemetry::__private::core::file!(),
            ::telemetry::__private::core::line!(),);
        }
        ::telemetry::__private::CallGuard::start(&__TELEMETRY_CALLSITE)
    };
    let __telemetry_on = __telemetry_guard.is_active();
    if __telemetry_on {
        __telemetry_guard.hash_arg(0usize, &*source);
        __telemetry_guard.record_arg(1usize, &*destination);
    }
    let __telemetry_ret = ::telemetry::__private::call_once(move || -> Result<(), Error> {
        copy(source, destination)?;
        Ok(())
    });
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
