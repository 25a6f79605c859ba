//! GEO fields: points written `"lon,lat"` (or `"lon lat"`) in the hash, held by latitude so
//! that a radius query visits only the band of latitudes the circle can reach, then checks
//! each candidate's great-circle distance exactly (the haversine formula with Redis's earth
//! radius, as GEORADIUS and RediSearch measure it).
//!
//! A point is kept as RediSearch keeps it: snapped to the center of its 52-bit geohash cell
//! (26 bits per axis, under a meter), so that distances and borderline matches agree with
//! RediSearch's and GEODIST's to the last digit.

use std::collections::BTreeMap;

use roaring::RoaringBitmap;

use crate::search::DocId;
use crate::search::query::GeoFilter;

/// Redis's earth radius (meters), used by GEODIST, GEORADIUS and RediSearch's GEO filters.
const EARTH_RADIUS_M: f64 = 6_372_797.560_856;

/// The coordinates Redis's geohash encoding (and so RediSearch) accepts.
const MAX_LON: f64 = 180.0;
const MAX_LAT: f64 = 85.051_128_78;

/// Bits per axis of Redis's geohash.
const GEOHASH_STEP: i32 = 26;

/// Latitude buckets are this many per degree: a band query widens its bounds by one bucket,
/// so rounding never leaves a point out.
const BUCKETS_PER_DEGREE: f64 = 1e6;

/// Longest value RediSearch parses as a point.
const MAX_GEO_STRING: usize = 128;

/// A point, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoPoint {
    pub lon: f64,
    pub lat: f64,
}

/// Parses a hash value as RediSearch does: [`parse_lon_lat`], within the geohash bounds,
/// snapped to its cell. The error is the text FT.INFO reports as the last indexing error.
pub fn parse(raw: &[u8]) -> Result<GeoPoint, String> {
    let GeoPoint { lon, lat } = parse_lon_lat(raw)?;
    if !(-MAX_LON..=MAX_LON).contains(&lon) || !(-MAX_LAT..=MAX_LAT).contains(&lat) {
        return Err(format!("Invalid geo coordinates: {lon:.6}, {lat:.6}"));
    }
    Ok(GeoPoint {
        lon: snap(lon, MAX_LON),
        lat: snap(lat, MAX_LAT),
    })
}

/// Longitude and latitude as written: separated by a comma or a space, each a whole number
/// (leading spaces allowed); neither bounded nor snapped (FT.AGGREGATE's `geodistance`
/// reads them so).
pub fn parse_lon_lat(raw: &[u8]) -> Result<GeoPoint, String> {
    if raw.len() > MAX_GEO_STRING {
        return Err(format!(
            "Geo string cannot be longer than {MAX_GEO_STRING} bytes"
        ));
    }
    let invalid = || "Invalid geo string".to_string();
    let text = std::str::from_utf8(raw).map_err(|_| invalid())?;
    let sep = text.find([' ', ',']).ok_or_else(invalid)?;
    let number = |s: &str| s.trim_start().parse::<f64>().ok().filter(|v| !v.is_nan());
    let (Some(lon), Some(lat)) = (number(&text[..sep]), number(&text[sep + 1..])) else {
        return Err(invalid());
    };
    Ok(GeoPoint { lon, lat })
}

/// The center of the cell a 52-bit geohash (a GEOADD score) stands for, as Redis decodes
/// it: latitude bits at even positions, longitude bits at odd ones.
pub fn decode_geohash(score: f64) -> GeoPoint {
    let bits = score as u64;
    let axis = |first: u32| {
        (0..GEOHASH_STEP as u32).fold(0u64, |acc, i| acc | (((bits >> (2 * i + first)) & 1) << i))
    };
    let cells = f64::from(1u32 << GEOHASH_STEP);
    let center =
        |cell: u64, max: f64| (-max + (cell as f64 + 0.5) / cells * 2.0 * max).clamp(-max, max);
    GeoPoint {
        lon: center(axis(1), MAX_LON),
        lat: center(axis(0), MAX_LAT),
    }
}

/// The center of the geohash cell `v` (within `-max..=max`) falls in, as Redis decodes it.
fn snap(v: f64, max: f64) -> f64 {
    let cells = f64::from(1u32 << GEOHASH_STEP);
    let width = 2.0 * max / cells;
    let cell = ((v + max) / width).floor().min(cells - 1.0);
    (-max + (cell + 0.5) * width).clamp(-max, max)
}

/// Great-circle distance in meters (haversine, as Redis computes it).
pub fn distance(a: GeoPoint, b: GeoPoint) -> f64 {
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let u = ((lat2 - lat1) / 2.0).sin();
    let v = ((b.lon.to_radians() - a.lon.to_radians()) / 2.0).sin();
    let h = (u * u + lat1.cos() * lat2.cos() * v * v).clamp(0.0, 1.0);
    2.0 * EARTH_RADIUS_M * h.sqrt().asin()
}

/// The filter's center, and its radius in meters (`None`: a circle nothing lies in).
fn circle(filter: &GeoFilter) -> Option<(GeoPoint, f64)> {
    let center = GeoPoint {
        lon: filter.lon,
        lat: filter.lat,
    };
    let radius = filter.radius * filter.unit.meters();
    let valid = radius >= 0.0 && center.lon.is_finite() && center.lat.is_finite();
    valid.then_some((center, radius))
}

/// Whether `point` lies within the filter's circle (distance <= radius).
pub fn contains(filter: &GeoFilter, point: GeoPoint) -> bool {
    circle(filter).is_some_and(|(center, radius)| distance(center, point) <= radius)
}

fn bucket(lat: f64) -> i64 {
    // Latitudes are bounded (|lat| <= 90), so the product fits an i64 exactly enough.
    (lat * BUCKETS_PER_DEGREE).floor() as i64
}

/// One GEO field's postings.
#[derive(Default)]
pub struct GeoIndex {
    /// Latitude bucket -> (doc, point) of the documents in it.
    by_lat: BTreeMap<i64, Vec<(u32, GeoPoint)>>,
    records: u64,
}

impl GeoIndex {
    pub fn insert(&mut self, id: DocId, point: GeoPoint) {
        self.by_lat
            .entry(bucket(point.lat))
            .or_default()
            .push((id.0, point));
        self.records += 1;
    }

    pub fn remove(&mut self, id: DocId, point: GeoPoint) {
        let key = bucket(point.lat);
        if let Some(docs) = self.by_lat.get_mut(&key) {
            let before = docs.len();
            docs.retain(|(d, _)| *d != id.0);
            self.records -= (before - docs.len()) as u64;
            if docs.is_empty() {
                self.by_lat.remove(&key);
            }
        }
    }

    pub fn clear(&mut self) {
        self.by_lat.clear();
        self.records = 0;
    }

    /// Documents whose point lies within the filter's circle (distance <= radius).
    pub fn within(&self, filter: &GeoFilter) -> RoaringBitmap {
        let Some((center, radius)) = circle(filter) else {
            return RoaringBitmap::new();
        };
        // A point `radius` away is at most that many radians of latitude away.
        let reach = (radius / EARTH_RADIUS_M).to_degrees().min(180.0);
        let lo = bucket((center.lat - reach).max(-90.0)) - 1;
        let hi = bucket((center.lat + reach).min(90.0)) + 1;
        self.by_lat
            .range(lo..=hi)
            .flat_map(|(_, docs)| docs)
            .filter(|(_, p)| distance(center, *p) <= radius)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Index entries (FT.INFO `num_records`).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Approximate bytes used.
    pub fn memory_bytes(&self) -> usize {
        self.by_lat.len() * 48 + self.records as usize * 24
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::query::GeoUnit;

    fn point(lon: f64, lat: f64) -> GeoPoint {
        GeoPoint { lon, lat }
    }

    fn filter(lon: f64, lat: f64, radius: f64, unit: GeoUnit) -> GeoFilter {
        GeoFilter {
            lon,
            lat,
            radius,
            unit,
        }
    }

    #[test]
    fn parses_like_redisearch() {
        let near = |raw: &[u8], lon: f64, lat: f64| {
            let p = parse(raw).expect("point");
            // Snapped to a geohash cell: within half a cell (< 3e-6 degrees).
            assert!(
                (p.lon - lon).abs() < 3e-6 && (p.lat - lat).abs() < 3e-6,
                "{p:?}"
            );
        };
        near(b"1.5,2.5", 1.5, 2.5);
        near(b"-73.99 40.73", -73.99, 40.73);
        near(b"1, 2", 1.0, 2.0);
        near(b"180,85.05112878", 180.0, 85.05112878);
        near(b"-180,-85.05112878", -180.0, -85.05112878);
        assert_eq!(parse(b"abc"), Err("Invalid geo string".into()));
        assert_eq!(parse(b"1,x"), Err("Invalid geo string".into()));
        assert_eq!(parse(b"1,2 "), Err("Invalid geo string".into()));
        assert_eq!(parse(b""), Err("Invalid geo string".into()));
        assert_eq!(
            parse(b"200,10"),
            Err("Invalid geo coordinates: 200.000000, 10.000000".into())
        );
        assert_eq!(
            parse(b"10,86"),
            Err("Invalid geo coordinates: 10.000000, 86.000000".into())
        );
        assert!(parse(&[b'1'; 129]).unwrap_err().contains("128 bytes"));
    }

    #[test]
    fn distance_matches_redis_geodist() {
        // GEODIST Sicily Palermo Catania -> 166274.1516 m in Redis's documentation.
        let palermo = parse(b"13.361389,38.115556").expect("palermo");
        let catania = parse(b"15.087269,37.502669").expect("catania");
        let d = distance(palermo, catania);
        assert!((d - 166_274.151_6).abs() < 0.01, "{d}");
        assert_eq!(distance(point(1.0, 1.0), point(1.0, 1.0)), 0.0);
    }

    #[test]
    fn radius_queries_are_exact() {
        let mut g = GeoIndex::default();
        let palermo = parse(b"13.361389,38.115556").expect("palermo");
        let catania = parse(b"15.087269,37.502669").expect("catania");
        g.insert(DocId(1), palermo);
        g.insert(DocId(2), catania);
        g.insert(DocId(3), point(-179.9, 0.0));
        g.insert(DocId(4), point(179.9, 0.0));
        let ids = |g: &GeoIndex, f: GeoFilter| g.within(&f).iter().collect::<Vec<_>>();
        assert_eq!(ids(&g, filter(15.0, 37.0, 200.0, GeoUnit::Km)), vec![1, 2]);
        assert_eq!(ids(&g, filter(15.0, 37.0, 100.0, GeoUnit::Km)), vec![2]);
        // Just inside and just outside the exact distance from the center to stored Catania.
        let d = distance(point(13.361389, 38.115556), catania);
        let around = |r: f64| ids(&g, filter(13.361389, 38.115556, r, GeoUnit::M));
        assert_eq!(around(d), vec![1, 2]);
        assert_eq!(around(d * (1.0 - 1e-12)), vec![1]);
        // Across the antimeridian.
        assert_eq!(ids(&g, filter(180.0, 0.0, 20.0, GeoUnit::Km)), vec![3, 4]);
        assert_eq!(
            ids(&g, filter(15.0, 37.0, 1.0, GeoUnit::Mi)),
            Vec::<u32>::new()
        );
        assert!(ids(&g, filter(15.0, 37.0, -1.0, GeoUnit::Km)).is_empty());
        assert_eq!(ids(&g, filter(0.0, 0.0, 30_000.0, GeoUnit::Km)).len(), 4);
        g.remove(DocId(2), catania);
        assert_eq!(ids(&g, filter(15.0, 37.0, 200.0, GeoUnit::Km)), vec![1]);
        assert_eq!(g.records(), 3);
    }

    #[test]
    fn geohash_scores_decode_to_their_cell() {
        // GEOADD Sicily 13.361389 38.115556 Palermo: score and GEOPOS as Redis gives them.
        let p = decode_geohash(3_479_099_956_230_698.0);
        assert!((p.lon - 13.361_389_338_970_184).abs() < 1e-12, "{p:?}");
        assert!((p.lat - 38.115_556_395_496_3).abs() < 1e-12, "{p:?}");
        assert_eq!(p, parse(b"13.361389,38.115556").expect("palermo"));
        assert_eq!(
            parse_lon_lat(b"200 -95").expect("unbounded"),
            point(200.0, -95.0)
        );
        assert!(parse_lon_lat(b"1.5").is_err());
    }

    #[test]
    fn band_search_agrees_with_brute_force() {
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move |range: f64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 1_000_000) as f64 / 1_000_000.0 * 2.0 * range - range
        };
        let mut g = GeoIndex::default();
        let mut points = Vec::new();
        for id in 0..2000 {
            let raw = format!("{},{}", next(MAX_LON), next(MAX_LAT));
            let p = parse(raw.as_bytes()).expect("point");
            g.insert(DocId(id), p);
            points.push(p);
        }
        for _ in 0..200 {
            let f = filter(next(MAX_LON), next(90.0), next(3000.0).abs(), GeoUnit::Km);
            let want: Vec<u32> = (0..2000u32)
                .filter(|&id| contains(&f, points[id as usize]))
                .collect();
            assert_eq!(g.within(&f).iter().collect::<Vec<_>>(), want, "{f:?}");
        }
    }
}
