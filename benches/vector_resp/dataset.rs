//! The benchmark dataset on disk (the layout of shared/datasets/gcide-minilm: raw little-endian
//! `base.f32`, `queries.f32`, `gt.i32`, `gt_dist.f32`, one `meta.jsonl` line per base row) and the
//! metadata filters the filtered queries use. Knows nothing about the server.

use std::fs;
use std::path::Path;

/// Per-row metadata stored next to the embedding in each hash.
pub struct Meta {
    pub text: String,
    pub pos: String,
    pub domain: String,
    pub letter: String,
    pub chars: i64,
    pub senses: i64,
}

/// The dataset's exact top-k (rows and cosine distances, best first), `k` columns per query.
pub struct GroundTruth {
    pub k: usize,
    pub rows: Vec<i32>,
    pub dists: Vec<f32>,
}

pub struct Dataset {
    pub dim: usize,
    /// Row-major base vectors, `rows() * dim` floats.
    pub base: Vec<f32>,
    pub queries: Vec<f32>,
    pub meta: Vec<Meta>,
    /// Present only when the whole base set is used (the file ranks rows of the full set).
    pub truth: Option<GroundTruth>,
}

impl Dataset {
    /// Loads the first `max_rows` base rows and the first `max_queries` queries.
    pub fn load(
        dir: &Path,
        dim: usize,
        max_rows: usize,
        max_queries: usize,
    ) -> Result<Dataset, String> {
        let mut base = read_f32(&dir.join("base.f32"))?;
        let total_rows = base.len() / dim;
        let rows = total_rows.min(max_rows);
        base.truncate(rows * dim);
        let mut queries = read_f32(&dir.join("queries.f32"))?;
        let total_queries = queries.len() / dim;
        let nq = total_queries.min(max_queries);
        queries.truncate(nq * dim);
        let meta = read_meta(&dir.join("meta.jsonl"), rows)?;
        let truth = if rows == total_rows {
            let gt_rows = read_i32(&dir.join("gt.i32"))?;
            let dists = read_f32(&dir.join("gt_dist.f32"))?;
            let k = gt_rows.len() / total_queries;
            Some(GroundTruth {
                k,
                rows: gt_rows[..nq * k].to_vec(),
                dists: dists[..nq * k].to_vec(),
            })
        } else {
            None
        };
        Ok(Dataset {
            dim,
            base,
            queries,
            meta,
            truth,
        })
    }

    pub fn rows(&self) -> usize {
        self.base.len() / self.dim
    }

    pub fn num_queries(&self) -> usize {
        self.queries.len() / self.dim
    }

    pub fn row(&self, r: usize) -> &[f32] {
        &self.base[r * self.dim..(r + 1) * self.dim]
    }

    pub fn query(&self, q: usize) -> &[f32] {
        &self.queries[q * self.dim..(q + 1) * self.dim]
    }
}

/// A metadata filter of a hybrid query, written `field=value` (tag) or `field=lo..hi`
/// (inclusive numeric range) on the command line.
#[derive(Clone, Debug)]
pub enum Filter {
    All,
    Tag { field: String, value: String },
    Range { field: String, lo: i64, hi: i64 },
}

impl Filter {
    pub fn parse(spec: &str) -> Result<Filter, String> {
        if spec == "none" {
            return Ok(Filter::All);
        }
        let (field, value) = spec
            .split_once('=')
            .ok_or_else(|| format!("filter {spec:?}: expected field=value or field=lo..hi"))?;
        let field = field.to_owned();
        match value.split_once("..") {
            Some((lo, hi)) => {
                let num = |s: &str| {
                    s.parse()
                        .map_err(|_| format!("filter {spec:?}: bad number {s:?}"))
                };
                Ok(Filter::Range {
                    field,
                    lo: num(lo)?,
                    hi: num(hi)?,
                })
            }
            None => Ok(Filter::Tag {
                field,
                value: value.to_owned(),
            }),
        }
    }

    /// The name used in the JSON output, the same spelling the command line takes.
    pub fn name(&self) -> String {
        match self {
            Filter::All => "none".into(),
            Filter::Tag { field, value } => format!("{field}={value}"),
            Filter::Range { field, lo, hi } => format!("{field}={lo}..{hi}"),
        }
    }

    /// The dialect-2 query prefix that selects the same rows (`*` for no filter).
    pub fn query_prefix(&self) -> String {
        match self {
            Filter::All => "*".into(),
            Filter::Tag { field, value } => format!("(@{field}:{{{value}}})"),
            Filter::Range { field, lo, hi } => format!("(@{field}:[{lo} {hi}])"),
        }
    }

    pub fn matches(&self, meta: &Meta) -> Result<bool, String> {
        let unknown = |field: &str| format!("filter on unknown field {field:?}");
        Ok(match self {
            Filter::All => true,
            Filter::Tag { field, value } => {
                let have = match field.as_str() {
                    "pos" => &meta.pos,
                    "domain" => &meta.domain,
                    "letter" => &meta.letter,
                    _ => return Err(unknown(field)),
                };
                have == value
            }
            Filter::Range { field, lo, hi } => {
                let have = match field.as_str() {
                    "chars" => meta.chars,
                    "senses" => meta.senses,
                    _ => return Err(unknown(field)),
                };
                (*lo..=*hi).contains(&have)
            }
        })
    }
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_f32(path: &Path) -> Result<Vec<f32>, String> {
    Ok(read_bytes(path)?
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

fn read_i32(path: &Path) -> Result<Vec<i32>, String> {
    Ok(read_bytes(path)?
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

fn read_meta(path: &Path, rows: usize) -> Result<Vec<Meta>, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let meta = text
        .lines()
        .take(rows)
        .enumerate()
        .map(|(row, line)| {
            let v: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| format!("{} line {}: {e}", path.display(), row + 1))?;
            let s = |key: &str| {
                v[key].as_str().map(str::to_owned).ok_or_else(|| {
                    format!("{} line {}: no string {key:?}", path.display(), row + 1)
                })
            };
            let n = |key: &str| {
                v[key].as_i64().ok_or_else(|| {
                    format!("{} line {}: no integer {key:?}", path.display(), row + 1)
                })
            };
            Ok(Meta {
                text: s("text")?,
                pos: s("pos")?,
                domain: s("domain")?,
                letter: s("letter")?,
                chars: n("chars")?,
                senses: n("senses")?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if meta.len() < rows {
        return Err(format!(
            "{}: {} lines for {rows} rows",
            path.display(),
            meta.len()
        ));
    }
    Ok(meta)
}
