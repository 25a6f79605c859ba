//! Behaviour of [`VectorIndex`] shared by FLAT and HNSW: blob checks, updates, deletes,
//! filters, ranges, and FLAT's top-k against a brute-force sort (property test).

use proptest::prelude::*;
use roaring::RoaringBitmap;

use super::*;
use crate::search::index::testing::blob;

fn ids(hits: &[(DocId, f64)]) -> Vec<u32> {
    hits.iter().map(|(id, _)| id.0).collect()
}

const ALGOS: [VectorAlgorithm; 2] = [VectorAlgorithm::Flat, VectorAlgorithm::Hnsw];

#[test]
fn blob_size_errors_use_redisearch_texts() {
    for algo in ALGOS {
        let index = VectorIndex::new(&VectorParams::new(algo, 2, Metric::L2));
        assert_eq!(
            index.insert(DocId(1), &[0u8; 7]),
            Err(SearchError::Other(
                "Could not add vector with blob size 7 (expected size 8)".into()
            ))
        );
        assert!(index.is_empty());
        assert_eq!(
            index.query_vector(&[0u8; 4]).err(),
            Some(SearchError::Other(
                "Error parsing vector similarity query: query vector blob size (4) does not match index's expected size (8).".into()
            ))
        );
    }
}

#[test]
fn knn_orders_by_distance_then_id_and_reports_metric_distances() {
    for algo in ALGOS {
        let mut p = VectorParams::new(algo, 2, Metric::Cosine);
        p.initial_cap = Some(usize::MAX);
        let index = VectorIndex::new(&p);
        index.insert(DocId(3), &blob(&[1.0, 0.0])).unwrap();
        index.insert(DocId(1), &blob(&[-2.0, 0.0])).unwrap();
        index.insert(DocId(2), &blob(&[5.0, 0.0])).unwrap();
        index.insert(DocId(4), &blob(&[0.0, 0.0])).unwrap();
        let q = index.query_vector(&blob(&[3.0, 0.0])).unwrap();
        let hits = index.knn(&q, 10, None, None, &Deadline::default());
        assert_eq!(
            hits,
            vec![
                (DocId(2), 0.0),
                (DocId(3), 0.0),
                (DocId(4), 1.0),
                (DocId(1), 2.0)
            ],
            "{algo:?}"
        );
        assert_eq!(
            ids(&index.knn(&q, 1, None, None, &Deadline::default())),
            vec![2]
        );
        assert!(
            index
                .knn(&q, 0, None, None, &Deadline::default())
                .is_empty()
        );
        assert_eq!(
            index
                .knn(&q, usize::MAX, Some(usize::MAX), None, &Deadline::default())
                .len(),
            4
        );
    }
}

#[test]
fn float64_blobs_are_converted() {
    let mut p = VectorParams::new(VectorAlgorithm::Flat, 2, Metric::L2);
    p.data_type = VectorType::Float64;
    let index = VectorIndex::new(&p);
    let b: Vec<u8> = [1.5f64, -2.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    index.insert(DocId(1), &b).unwrap();
    assert!(index.insert(DocId(2), &blob(&[1.0, 2.0])).is_err());
    let q = index.query_vector(&b).unwrap();
    assert_eq!(
        index.knn(&q, 1, None, None, &Deadline::default()),
        vec![(DocId(1), 0.0)]
    );
}

#[test]
fn ip_distances_may_be_negative() {
    for algo in ALGOS {
        let index = VectorIndex::new(&VectorParams::new(algo, 2, Metric::Ip));
        index.insert(DocId(1), &blob(&[1.0, 2.0])).unwrap();
        index.insert(DocId(2), &blob(&[10.0, 0.0])).unwrap();
        index.insert(DocId(3), &blob(&[-1.0, 0.0])).unwrap();
        let q = index.query_vector(&blob(&[3.0, 4.0])).unwrap();
        assert_eq!(
            index.knn(&q, 3, None, None, &Deadline::default()),
            vec![(DocId(2), -29.0), (DocId(1), -10.0), (DocId(3), 4.0)]
        );
    }
}

#[test]
fn remove_update_and_clear() {
    for algo in ALGOS {
        let index = VectorIndex::new(&VectorParams::new(algo, 2, Metric::L2));
        for i in 0..50u32 {
            index.insert(DocId(i), &blob(&[i as f32, 0.0])).unwrap();
        }
        index.remove(DocId(0));
        index.remove(DocId(0));
        index.remove(DocId(999));
        index.wait_indexed();
        // Replacing a vector moves the document.
        index.insert(DocId(1), &blob(&[100.0, 0.0])).unwrap();
        assert_eq!(index.len(), 49);
        let q = index.query_vector(&blob(&[0.0, 0.0])).unwrap();
        assert_eq!(
            ids(&index.knn(&q, 3, None, None, &Deadline::default())),
            vec![2, 3, 4],
            "{algo:?}"
        );
        let far = index.query_vector(&blob(&[100.0, 0.0])).unwrap();
        assert_eq!(
            index.knn(&far, 1, Some(64), None, &Deadline::default()),
            vec![(DocId(1), 0.0)]
        );
        assert!(index.memory_bytes() > 49 * 8);
        index.clear();
        assert!(index.is_empty());
        assert!(
            index
                .knn(&q, 3, None, None, &Deadline::default())
                .is_empty()
        );
        index.insert(DocId(60), &blob(&[1.0, 0.0])).unwrap();
        assert_eq!(
            ids(&index.knn(&q, 3, None, None, &Deadline::default())),
            vec![60]
        );
    }
}

#[test]
fn many_deletes_rebuild_the_graph_and_keep_results_exact_enough() {
    let index = VectorIndex::new(&VectorParams::new(VectorAlgorithm::Hnsw, 2, Metric::L2));
    for i in 0..600u32 {
        index
            .insert(DocId(i), &blob(&[i as f32, (i % 7) as f32]))
            .unwrap();
    }
    index.wait_indexed();
    let before = index.memory_bytes();
    for i in (0..600u32).filter(|i| i % 3 != 0) {
        index.remove(DocId(i));
    }
    assert_eq!(index.len(), 200);
    let q = index.query_vector(&blob(&[301.0, 0.0])).unwrap();
    assert_eq!(
        ids(&index.knn(&q, 3, Some(50), None, &Deadline::default())),
        vec![303, 297, 300]
    );
    index.wait_indexed();
    // The rebuilt graph holds the 200 live vectors only.
    assert!(
        index.memory_bytes() < before,
        "{} >= {before}",
        index.memory_bytes()
    );
    let q = index.query_vector(&blob(&[301.0, 0.0])).unwrap();
    assert_eq!(
        ids(&index.knn(&q, 3, Some(50), None, &Deadline::default())),
        vec![303, 297, 300]
    );
}

#[test]
fn filters_restrict_results_at_every_size() {
    for algo in ALGOS {
        let index = VectorIndex::new(&VectorParams::new(algo, 2, Metric::L2));
        for i in 0..5000u32 {
            index
                .insert(DocId(i), &blob(&[(i % 100) as f32, (i / 100) as f32]))
                .unwrap();
        }
        let q = index.query_vector(&blob(&[50.0, 25.0])).unwrap();
        for modulo in [2u32, 7, 1000] {
            let filter: RoaringBitmap = (0..6000u32).filter(|i| i % modulo == 0).collect();
            // EF_RUNTIME 5: the half filter goes through the graph, the others are exact scans.
            let got = index.knn(&q, 5, Some(5), Some(&filter), &Deadline::default());
            let want = index.knn(&q, 5, None, None, &Deadline::default());
            assert!(got.iter().all(|(id, _)| filter.contains(id.0)));
            assert_eq!(got.len(), 5);
            // The grid has tied distances: compare distances, not ids.
            let exact = index.shared.inner.read().store.top_k(
                Metric::L2,
                &q.v,
                5,
                Some(&filter),
                &Deadline::default(),
            );
            let dists: Vec<f64> = got.iter().map(|(_, d)| *d).collect();
            assert_eq!(
                dists,
                exact.iter().map(|h| f64::from(h.dist)).collect::<Vec<_>>(),
                "{algo:?} {modulo}"
            );
            assert_eq!(want.len(), 5);
        }
        let empty = RoaringBitmap::new();
        assert!(
            index
                .knn(&q, 5, None, Some(&empty), &Deadline::default())
                .is_empty()
        );
    }
}

#[test]
fn range_returns_everything_within_radius() {
    for algo in ALGOS {
        let index = VectorIndex::new(&VectorParams::new(algo, 1, Metric::L2));
        for i in 0..20u32 {
            index.insert(DocId(i), &blob(&[i as f32])).unwrap();
        }
        let q = index.query_vector(&blob(&[10.0])).unwrap();
        let hits = index.range(&q, 4.0, None, None, &Deadline::default());
        assert_eq!(ids(&hits), vec![10, 9, 11, 8, 12]);
        assert_eq!(hits[1].1, 1.0);
        let filter: RoaringBitmap = [8u32, 11, 15].into_iter().collect();
        assert_eq!(
            ids(&index.range(&q, 4.0, Some(0.5), Some(&filter), &Deadline::default())),
            vec![11, 8]
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn flat_top_k_equals_brute_force(
        rows in prop::collection::vec(prop::collection::vec(-4i8..4, 3), 0..80),
        q in prop::collection::vec(-4i8..4, 3),
        k in 0usize..20,
        keep in prop::collection::vec(any::<bool>(), 80),
        filtered in any::<bool>(),
        metric in prop::sample::select(vec![Metric::L2, Metric::Ip, Metric::Cosine]),
    ) {
        let index = VectorIndex::new(&VectorParams::new(VectorAlgorithm::Flat, 3, metric));
        let as_f32 = |v: &[i8]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        for (i, r) in rows.iter().enumerate() {
            index.insert(DocId(i as u32 * 3), &blob(&as_f32(r))).unwrap();
        }
        let filter: Option<RoaringBitmap> = filtered.then(|| {
            (0..rows.len() as u32).filter(|i| keep[*i as usize]).map(|i| i * 3).collect()
        });
        let query = index.query_vector(&blob(&as_f32(&q))).unwrap();
        let got = index.knn(&query, k, None, filter.as_ref(), &Deadline::default());

        let mut qv = as_f32(&q);
        if metric == Metric::Cosine { metric::normalise(&mut qv); }
        let mut want: Vec<(u32, f64)> = rows.iter().enumerate()
            .map(|(i, r)| {
                let mut v = as_f32(r);
                if metric == Metric::Cosine { metric::normalise(&mut v); }
                (i as u32 * 3, f64::from(distance(metric, &qv, &v)))
            })
            .filter(|(id, _)| filter.as_ref().is_none_or(|f| f.contains(*id)))
            .collect();
        want.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        want.truncate(k);
        let got: Vec<(u32, f64)> = got.into_iter().map(|(id, d)| (id.0, d)).collect();
        prop_assert_eq!(got, want);
    }
}

#[test]
fn every_insert_is_visible_to_the_next_query_while_the_graph_fills() {
    let index = VectorIndex::new(&VectorParams::new(VectorAlgorithm::Hnsw, 3, Metric::L2));
    let v = |i: u32| [(i % 17) as f32, (i / 17) as f32, (i % 5) as f32 * 0.1];
    for i in 0..1500u32 {
        index.insert(DocId(i), &blob(&v(i))).unwrap();
        if i % 3 == 0 {
            index.remove(DocId(i));
        }
        let probe = i - i % 3 + 1;
        if probe <= i {
            let q = index.query_vector(&blob(&v(probe))).unwrap();
            assert_eq!(
                index.knn(&q, 1, Some(10), None, &Deadline::default()),
                vec![(DocId(probe), 0.0)],
                "after insert {i}"
            );
        }
    }
    index.wait_indexed();
    assert_eq!(index.len(), 1000);
    let q = index.query_vector(&blob(&v(700))).unwrap();
    assert_eq!(
        index.knn(&q, 1, Some(10), None, &Deadline::default()),
        vec![(DocId(700), 0.0)]
    );
}

fn blob64(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn float64(algo: VectorAlgorithm, metric: Metric, dim: usize) -> VectorIndex {
    VectorIndex::new(&VectorParams {
        data_type: VectorType::Float64,
        ..VectorParams::new(algo, dim, metric)
    })
}

/// FLOAT64 distances are computed in f64, as RediSearch does: [1,1] to [0.9,1] is exactly
/// the double `(1 - 0.9)²`, which prints as 0.01 (in f32 it would be 0.0100000044).
#[test]
fn float64_distances_are_computed_in_f64() {
    let (a, b, c) = ([1.0, 1.0], [0.9, 1.0], [0.3, -0.7]);
    let wanted = |metric| match metric {
        Metric::L2 => (1.0f64 - 0.9) * (1.0 - 0.9),
        Metric::Ip => 1.0 - (0.9 + 1.0),
        Metric::Cosine => 1.0 - (0.9 + 1.0) / (2.0f64.sqrt() * (0.81f64 + 1.0).sqrt()),
    };
    for algo in ALGOS {
        for metric in [Metric::L2, Metric::Ip, Metric::Cosine] {
            let index = float64(algo, metric, 2);
            index.insert(DocId(1), &blob64(&a)).unwrap();
            index.insert(DocId(2), &blob64(&c)).unwrap();
            index.wait_indexed();
            let q = index.query_vector(&blob64(&b)).unwrap();
            let want = wanted(metric);
            let hits = index.knn(&q, 1, None, None, &Deadline::default());
            assert_eq!(hits.len(), 1);
            assert_eq!(hits[0].0, DocId(1));
            assert!(
                (hits[0].1 - want).abs() < 1e-15,
                "{algo:?} {metric:?} {hits:?}"
            );
            assert_ne!(
                hits[0].1,
                f64::from(hits[0].1 as f32),
                "{algo:?} {metric:?}"
            );
            if metric == Metric::L2 {
                assert_eq!(format!("{:.12}", hits[0].1), "0.010000000000");
            }
            // The radius is compared in f64 too: exactly the distance is inside.
            let range = index.range(&q, hits[0].1, None, None, &Deadline::default());
            assert_eq!(range, vec![hits[0]], "{algo:?} {metric:?}");
            let below = hits[0].1 - hits[0].1.abs() * 1e-12;
            assert!(
                index
                    .range(&q, below, None, None, &Deadline::default())
                    .is_empty()
            );
        }
    }
}

/// HNSW FLOAT64: the graph's f32 hits are re-scored and re-sorted in f64, ties by id, and
/// updates and deletes reach the f64 copy.
#[test]
fn float64_hnsw_rescores_and_tracks_updates() {
    let index = float64(VectorAlgorithm::Hnsw, Metric::L2, 2);
    for i in 0..300u32 {
        let v = [f64::from(i % 20) * 0.1, f64::from(i / 20) * 0.1];
        index.insert(DocId(i), &blob64(&v)).unwrap();
    }
    index.wait_indexed();
    let q = index.query_vector(&blob64(&[0.5, 0.5])).unwrap();
    let hits = index.knn(&q, 5, Some(50), None, &Deadline::default());
    // (0.5, 0.5) is row 5 of column 5; its four neighbours are 0.1 away, ties by id.
    assert_eq!(ids(&hits), vec![105, 85, 104, 106, 125]);
    assert_eq!(hits[0].1, 0.0);
    let d = (0.5f64 - 0.4) * (0.5 - 0.4);
    assert!(
        hits[1..].iter().all(|h| (h.1 - d).abs() < 1e-15),
        "{hits:?}"
    );
    index.insert(DocId(105), &blob64(&[9.0, 9.0])).unwrap();
    index.remove(DocId(85));
    index.wait_indexed();
    let hits = index.knn(&q, 3, Some(50), None, &Deadline::default());
    assert_eq!(ids(&hits), vec![104, 106, 125]);
    assert_eq!(
        index.range(&q, 0.0, None, None, &Deadline::default()),
        vec![]
    );
}

/// A graph image adopted by a fresh index under new ids: nodes whose key still holds the
/// same vector answer as before (the same neighbours, through the same graph); a changed
/// vector's node is a tombstone and the vector is placed anew; a vector no node has goes
/// pending and is found at once.
#[test]
fn an_adopted_graph_answers_as_the_saved_one() {
    let mut p = VectorParams::new(VectorAlgorithm::Hnsw, 4, Metric::L2);
    (p.m, p.ef_construction) = (4, 16);
    let point = |i: u32| {
        let f = i as f32;
        [f.sin(), (f * 0.7).cos(), (f * 1.3).sin(), f % 7.0]
    };
    let saved = VectorIndex::new(&p);
    for i in 0..400 {
        saved.insert(DocId(i), &blob(&point(i))).unwrap();
    }
    saved.wait_indexed();
    let key = |id: u32| Bytes::from(format!("k{id}"));
    let (image, ids_then) = saved
        .with_graph_image(
            |ids| ids.iter().map(|&id| Some(key(id))).collect(),
            |image| {
                let image = GraphImage {
                    vectors: image.vectors.clone().into_owned().into(),
                    base: image.base.clone().into_owned().into(),
                    upper: image.upper.clone().into_owned().into(),
                    keys: image.keys.clone(),
                    ..*image
                };
                (image, saved.shared.inner.read().store.len())
            },
        )
        .unwrap();
    assert_eq!(ids_then, 400);
    // The loaded dataset: ids shifted by 1000, key k7 changed, k9 gone, k500 new.
    let loaded = VectorIndex::new(&p);
    loaded.hold_graph();
    let new_id = |old: u32| old + 1000;
    for i in (0..400).filter(|&i| i != 9) {
        let v = if i == 7 {
            [9.0, 9.0, 9.0, 9.0]
        } else {
            point(i)
        };
        loaded.insert(DocId(new_id(i)), &blob(&v)).unwrap();
    }
    loaded
        .insert(DocId(new_id(500)), &blob(&point(500)))
        .unwrap();
    let node_ids: Vec<Option<u32>> = image
        .keys
        .iter()
        .map(|k| {
            let old: u32 = std::str::from_utf8(&k.as_ref()?[1..]).ok()?.parse().ok()?;
            (old != 9).then(|| new_id(old))
        })
        .collect();
    let mut next_free = 5000;
    let adopted = loaded
        .adopt_graph(image, &node_ids, || {
            next_free += 1;
            next_free
        })
        .unwrap();
    assert_eq!(adopted, 398);
    // Before the worker runs: the adopted graph answers, the rest is searched exactly.
    for q in [point(3), point(150), [0.5, 0.5, 0.5, 3.0]] {
        let q = saved.query_vector(&blob(&q)).unwrap();
        let then: Vec<u32> = ids(&saved.knn(&q, 5, Some(50), None, &Deadline::default()))
            .into_iter()
            .filter(|&id| id != 7 && id != 9)
            .map(new_id)
            .collect();
        let now: Vec<u32> = ids(&loaded.knn(&q, 5, Some(50), None, &Deadline::default()))
            .into_iter()
            .filter(|&id| id != new_id(7) && id != new_id(500))
            .collect();
        assert_eq!(now, then[..now.len()], "{then:?} vs {now:?}");
    }
    let own = |v: [f32; 4]| {
        let q = loaded.query_vector(&blob(&v)).unwrap();
        ids(&loaded.knn(&q, 1, None, None, &Deadline::default()))
    };
    assert_eq!(own([9.0, 9.0, 9.0, 9.0]), vec![new_id(7)]);
    assert_eq!(own(point(500)), vec![new_id(500)]);
    loaded.release_graph();
    loaded.wait_indexed();
    assert_eq!(own([9.0, 9.0, 9.0, 9.0]), vec![new_id(7)]);
    assert_eq!(loaded.pending_len(), 0);
}

#[test]
fn a_graph_of_other_parameters_is_refused() {
    let mut p = VectorParams::new(VectorAlgorithm::Hnsw, 2, Metric::L2);
    p.m = 4;
    let saved = VectorIndex::new(&p);
    saved.insert(DocId(1), &blob(&[1.0, 0.0])).unwrap();
    saved.wait_indexed();
    let image = saved
        .with_graph_image(
            |ids| ids.iter().map(|_| None).collect(),
            |image| GraphImage {
                vectors: image.vectors.clone().into_owned().into(),
                base: image.base.clone().into_owned().into(),
                upper: image.upper.clone().into_owned().into(),
                keys: image.keys.clone(),
                ..*image
            },
        )
        .unwrap();
    p.m = 8;
    let other = VectorIndex::new(&p);
    let refused = other.adopt_graph(image, &[None], || 99);
    assert!(
        matches!(&refused, Err(SearchError::Other(e)) if e.contains("other parameters")),
        "{refused:?}"
    );
}
