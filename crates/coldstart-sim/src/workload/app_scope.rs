//! Apps as Azure defines them: Azure Functions loads an app, not a function, so every function
//! of an app runs in the app's pods (instances). [`AppScope`] turns a workload whose function
//! names are `APP/FUNCTION` (the Azure adapters name them `owner/app/function` and
//! `app/func`) into one whose "functions" are its apps: each invocation goes to its app, and
//! pods, cold starts and every per-function metric are per app.

use std::collections::HashMap;
use std::ops::Range;

use anyhow::{bail, Result};

use super::{sort, Function, Invocation, Workload};

/// The app of a function named `APP/FUNCTION` (everything before the last `/`), or None.
pub fn app_of(name: &str) -> Option<&str> {
    name.rsplit_once('/').map(|(app, _)| app)
}

/// A workload's functions grouped into their apps.
pub struct AppScope {
    inner: Box<dyn Workload>,
    apps: Vec<Function>,
    /// The app of each function of `inner`.
    app: Vec<u32>,
}

impl AppScope {
    /// Groups `inner`'s functions by app; an error when a function's name has no app part.
    /// An app's pods hold the most memory and CPU of its functions (the Azure adapters give
    /// every function its app's), and serve as many requests at once as its most concurrent
    /// function; its trigger and runtime are its functions' when they agree, else `unknown`.
    pub fn new(inner: Box<dyn Workload>) -> Result<Self> {
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut apps: Vec<Function> = Vec::new();
        let mut app = Vec::with_capacity(inner.functions().len());
        for f in inner.functions() {
            let Some(name) = app_of(&f.name) else {
                bail!(
                    "function '{}' names no app (APP/FUNCTION): pods per app need the Azure \
                     traces (--azure2019, --azure2021); use --pod-scope function",
                    f.name
                );
            };
            let i = *index.entry(name.to_string()).or_insert_with(|| {
                apps.push(Function {
                    name: name.to_string(),
                    ..f.clone()
                });
                apps.len() as u32 - 1
            });
            let a = &mut apps[i as usize];
            if a.trigger != f.trigger {
                a.trigger = "unknown".into();
            }
            if a.runtime != f.runtime {
                a.runtime = "unknown".into();
            }
            a.cpu_millis = a.cpu_millis.max(f.cpu_millis);
            a.memory_mb = a.memory_mb.max(f.memory_mb);
            a.concurrency = a.concurrency.max(f.concurrency);
            app.push(i);
        }
        Ok(Self { inner, apps, app })
    }
}

impl AppScope {
    /// What the grouping did, in words.
    pub fn describe(&self) -> String {
        format!(
            "pods per app, as Azure loads them: the {} functions run in the pods of their {} \
             apps, and every per-function number is per app (--pod-scope app)",
            self.app.len(),
            self.apps.len()
        )
    }
}

impl Workload for AppScope {
    fn functions(&self) -> &[Function] {
        &self.apps
    }

    fn days(&self) -> Range<u32> {
        self.inner.days()
    }

    fn day(&mut self, day: u32) -> Result<Vec<Invocation>> {
        let mut v = self.inner.day(day)?;
        for inv in &mut v {
            inv.func = self.app[inv.func as usize];
        }
        sort(&mut v);
        Ok(v)
    }

    fn notes(&self) -> Vec<String> {
        self.inner.notes()
    }

    fn size_hint(&self, day: u32) -> Option<u64> {
        self.inner.size_hint(day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::Trace;

    #[test]
    fn functions_of_an_app_share_its_pods() {
        let mut f = vec![
            Function::new("o/a/f1", "http-S"),
            Function::new("o/a/f2", "http-S"),
            Function::new("o/b/f1", "TIMER-A"),
        ];
        f[1].memory_mb = 256;
        let inv = |t: f64, func: u32| Invocation { t, func, exec: 1.0 };
        let trace = Trace::new(f, vec![inv(0.0, 0), inv(10.0, 1), inv(5.0, 2)]);
        let mut w = AppScope::new(Box::new(trace)).unwrap();
        let names: Vec<&str> = w.functions().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["o/a", "o/b"]);
        assert_eq!(w.functions()[0].memory_mb, 256);
        assert_eq!(w.functions()[1].trigger, "TIMER-A");
        let day: Vec<(f64, u32)> = w.day(0).unwrap().iter().map(|i| (i.t, i.func)).collect();
        assert_eq!(day, [(0.0, 0), (5.0, 1), (10.0, 0)]);
        assert!(w
            .describe()
            .contains("3 functions run in the pods of their 2 apps"));
        let e = AppScope::new(Box::new(Trace::new(vec![Function::new("f", "x")], vec![])));
        assert!(format!("{:#}", e.err().unwrap()).contains("--pod-scope function"));
    }
}
