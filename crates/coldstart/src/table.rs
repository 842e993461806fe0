//! The numbers behind a figure: a small named-column table that becomes an Arrow batch, so it
//! prints, and writes to CSV or JSON, the same way SQL results do.

use std::sync::Arc;

use anyhow::Result;
use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

#[derive(Debug, Clone)]
pub enum Col {
    Str(Vec<String>),
    F64(Vec<f64>),
    I64(Vec<i64>),
}

impl Col {
    fn len(&self) -> usize {
        match self {
            Col::Str(v) => v.len(),
            Col::F64(v) => v.len(),
            Col::I64(v) => v.len(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<(String, Col)>,
}

impl Table {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn str(mut self, name: &str, v: Vec<String>) -> Self {
        self.columns.push((name.into(), Col::Str(v)));
        self
    }

    pub fn f64(mut self, name: &str, v: Vec<f64>) -> Self {
        self.columns.push((name.into(), Col::F64(v)));
        self
    }

    pub fn i64(mut self, name: &str, v: Vec<i64>) -> Self {
        self.columns.push((name.into(), Col::I64(v)));
        self
    }

    fn col(&self, name: &str) -> Option<&Col> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }

    /// A numeric column by name (integers converted), if there is one.
    pub fn f64s(&self, name: &str) -> Option<Vec<f64>> {
        match self.col(name)? {
            Col::F64(v) => Some(v.clone()),
            Col::I64(v) => Some(v.iter().map(|x| *x as f64).collect()),
            Col::Str(_) => None,
        }
    }

    /// A text column by name, if there is one.
    pub fn strs(&self, name: &str) -> Option<&[String]> {
        match self.col(name)? {
            Col::Str(v) => Some(v),
            _ => None,
        }
    }

    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, c)| c.len())
    }

    pub fn to_batch(&self) -> Result<RecordBatch> {
        let mut fields = Vec::new();
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for (name, col) in &self.columns {
            let (dt, a): (DataType, ArrayRef) = match col {
                Col::Str(v) => (DataType::Utf8, Arc::new(StringArray::from(v.clone()))),
                Col::F64(v) => (
                    DataType::Float64,
                    Arc::new(Float64Array::from_iter(
                        v.iter().map(|x| x.is_finite().then_some(*x)),
                    )),
                ),
                Col::I64(v) => (DataType::Int64, Arc::new(Int64Array::from(v.clone()))),
            };
            fields.push(Field::new(name, dt, true));
            arrays.push(a);
        }
        Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
    }

    /// A JSON array of row objects, newline-terminated.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        {
            let mut w = datafusion::arrow::json::ArrayWriter::new(&mut buf);
            w.write_batches(&[&self.to_batch()?])?;
            w.finish()?;
        }
        buf.push(b'\n');
        Ok(buf)
    }

    pub fn to_csv(&self) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        {
            let mut w = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut buf);
            w.write(&self.to_batch()?)?;
        }
        Ok(buf)
    }
}
