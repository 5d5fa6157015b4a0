use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{assert_timestamp, error_message, json_body, spawn_app};

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn posting_returns_the_stored_chirp_with_its_real_author() {
    let app = spawn_app().await;
    let session = app.user().await;
    let chirp = app.chirp(&session, "I'm the one who knocks!").await;
    let mut keys: Vec<&str> = chirp.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "body",
            "created_at",
            "id",
            "like_count",
            "reply_count",
            "reply_to",
            "updated_at",
            "user_id"
        ]
    );
    assert_eq!(chirp["body"], "I'm the one who knocks!");
    assert_eq!(chirp["user_id"], session.user_id.to_string());
    assert_timestamp(&chirp["created_at"]);

    let resp = app
        .get(&format!("/api/chirps/{}", chirp["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body(resp, StatusCode::OK).await, chirp);
}

#[tokio::test]
async fn the_limit_is_140_characters_not_bytes() {
    let app = spawn_app().await;
    let session = app.user().await;
    let fits = "é".repeat(140);
    assert_eq!(app.chirp(&session, &fits).await["body"], fits.as_str());

    for too_long in ["é".repeat(141), "a".repeat(141)] {
        let resp = app
            .post("/api/chirps")
            .bearer_auth(&session.token)
            .json(&json!({"body": too_long}))
            .send()
            .await
            .unwrap();
        assert_eq!(error_message(resp, StatusCode::BAD_REQUEST).await, "Chirp is too long");
    }
    let resp = app
        .post("/api/chirps")
        .bearer_auth(&session.token)
        .json(&json!({"body": "nul\u{0}byte"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_message(resp, StatusCode::BAD_REQUEST).await,
        "Chirp contains a NUL character"
    );
    for empty in ["", "   ", "\u{200b}", "\u{200b} \u{200d}\u{feff}\u{ad}\u{202e}"] {
        let resp = app
            .post("/api/chirps")
            .bearer_auth(&session.token)
            .json(&json!({"body": empty}))
            .send()
            .await
            .unwrap();
        assert_eq!(error_message(resp, StatusCode::BAD_REQUEST).await, "Chirp is empty");
    }
    for malformed in [r#"{"body": 42}"#, r#"{}"#, "{"] {
        let resp = app
            .post_raw_json("/api/chirps", malformed)
            .bearer_auth(&session.token)
            .send()
            .await
            .unwrap();
        error_message(resp, StatusCode::BAD_REQUEST).await;
    }
    let count: i64 = app.count("chirps").await;
    assert_eq!(count, 1);
}

#[tokio::test]
async fn profanity_is_censored_keeping_everything_else() {
    let app = spawn_app().await;
    let session = app.user().await;
    let chirp = app
        .chirp(&session, "  What a KERFUFFLE,\tsharbert!  Fornax? kerfuffles stay ")
        .await;
    assert_eq!(chirp["body"], "  What a ****,\t****!  ****? kerfuffles stay ");
}

#[tokio::test]
async fn disguised_profanity_is_censored_too() {
    let app = spawn_app().await;
    let session = app.user().await;
    for (written, stored) in [
        ("for\u{200d}nax", "****"),
        ("ker\u{200b}fuf\u{ad}fle!", "****!"),
        ("ＦＯＲＮＡＸ and 𝐟𝐨𝐫𝐧𝐚𝐱", "**** and ****"),
        ("a kerfu\u{fb00}le", "a ****"),
        (
            "fornax's  fornax-fornax\tfornax.kerfuffle",
            "****'s  ****-****\t****.****",
        ),
        ("sharbert-fornax", "****-****"),
        ("kerfuffles fornaxes stay", "kerfuffles fornaxes stay"),
    ] {
        let chirp = app.chirp(&session, written).await;
        assert_eq!(chirp["body"], stored, "{written:?}");
    }
}

#[tokio::test]
async fn posting_requires_an_access_token() {
    let app = spawn_app().await;
    let resp = app
        .post("/api/chirps")
        .json(&json!({"body": "anonymous"}))
        .send()
        .await
        .unwrap();
    error_message(resp, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn the_list_is_oldest_first_by_default_and_newest_first_on_request() {
    let app = spawn_app().await;
    let session = app.user().await;
    let mut posted = Vec::new();
    for n in 0..4 {
        posted.push(
            app.chirp(&session, &format!("chirp {n}")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let asc = json_body(app.get("/api/chirps").send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(ids(&asc), posted);
    let explicit = json_body(app.get("/api/chirps?sort=asc").send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(ids(&explicit), posted);
    let desc = json_body(app.get("/api/chirps?sort=desc").send().await.unwrap(), StatusCode::OK).await;
    posted.reverse();
    assert_eq!(ids(&desc), posted);
}

#[tokio::test]
async fn chirps_posted_at_the_same_instant_are_ordered_by_id() {
    let app = spawn_app().await;
    let session = app.user().await;
    for n in 0..5 {
        app.chirp(&session, &format!("tie {n}")).await;
    }
    sqlx::query("update chirps set created_at = '2026-01-01T00:00:00Z'")
        .execute(&app.db)
        .await
        .unwrap();
    let mut by_id = app.chirp_ids_in_id_order().await;
    for _ in 0..3 {
        let asc = json_body(app.get("/api/chirps").send().await.unwrap(), StatusCode::OK).await;
        assert_eq!(ids(&asc), by_id);
    }
    let desc = json_body(app.get("/api/chirps?sort=desc").send().await.unwrap(), StatusCode::OK).await;
    by_id.reverse();
    assert_eq!(ids(&desc), by_id);
}

#[tokio::test]
async fn author_id_filters_to_one_author() {
    let app = spawn_app().await;
    let (walt, jesse) = (app.user().await, app.user().await);
    let w1 = app.chirp(&walt, "walt 1").await;
    app.chirp(&jesse, "jesse 1").await;
    let w2 = app.chirp(&walt, "walt 2").await;

    let resp = app
        .get(&format!("/api/chirps?author_id={}&sort=desc", walt.user_id))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body(resp, StatusCode::OK).await, json!([w2, w1]));
    let resp = app
        .get(&format!("/api/chirps?author_id={}", Uuid::new_v4()))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body(resp, StatusCode::OK).await, json!([]));
}

#[tokio::test]
async fn malformed_list_parameters_get_400() {
    let app = spawn_app().await;
    for query in ["author_id=walt", "author_id=", "sort=sideways", "sort=DESC"] {
        let resp = app.get(&format!("/api/chirps?{query}")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{query}");
        error_message(resp, StatusCode::BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn getting_a_chirp_that_does_not_exist_is_404_and_a_malformed_id_400() {
    let app = spawn_app().await;
    let resp = app
        .get(&format!("/api/chirps/{}", Uuid::new_v4()))
        .send()
        .await
        .unwrap();
    assert_eq!(error_message(resp, StatusCode::NOT_FOUND).await, "Chirp not found");
    let resp = app.get("/api/chirps/not-a-uuid").send().await.unwrap();
    error_message(resp, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn authors_delete_their_own_chirps() {
    let app = spawn_app().await;
    let session = app.user().await;
    let chirp = app.chirp(&session, "soon gone").await;
    let path = format!("/api/chirps/{}", chirp["id"].as_str().unwrap());

    let resp = app.delete(&path).bearer_auth(&session.token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(resp.bytes().await.unwrap().is_empty());
    let resp = app.get(&path).send().await.unwrap();
    error_message(resp, StatusCode::NOT_FOUND).await;
    let resp = app.delete(&path).bearer_auth(&session.token).send().await.unwrap();
    error_message(resp, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn nobody_deletes_someone_elses_chirp() {
    let app = spawn_app().await;
    let (author, other) = (app.user().await, app.user().await);
    let chirp = app.chirp(&author, "mine").await;
    let path = format!("/api/chirps/{}", chirp["id"].as_str().unwrap());

    let resp = app.delete(&path).bearer_auth(&other.token).send().await.unwrap();
    assert_eq!(
        error_message(resp, StatusCode::FORBIDDEN).await,
        "You can only delete your own chirps"
    );
    let resp = app.delete(&path).send().await.unwrap();
    error_message(resp, StatusCode::UNAUTHORIZED).await;
    let resp = app
        .delete(&path)
        .bearer_auth(&author.refresh_token)
        .send()
        .await
        .unwrap();
    error_message(resp, StatusCode::UNAUTHORIZED).await;
    let resp = app
        .delete("/api/chirps/not-a-uuid")
        .bearer_auth(&author.token)
        .send()
        .await
        .unwrap();
    error_message(resp, StatusCode::BAD_REQUEST).await;

    let resp = app.get(&path).send().await.unwrap();
    assert_eq!(json_body(resp, StatusCode::OK).await, chirp, "still there");
}

/// Follows `Link: <...>; rel="next"` headers from `first` until the last page.
async fn all_pages(app: &crate::helpers::TestApp, first: &str) -> (Vec<String>, usize) {
    let (mut ids_seen, mut pages, mut next) = (Vec::new(), 0, Some(first.to_owned()));
    while let Some(path) = next.take() {
        let resp = app.get(&path).send().await.unwrap();
        let link = crate::helpers::header(&resp, "link");
        let page = json_body(resp, StatusCode::OK).await;
        ids_seen.extend(ids(&page));
        pages += 1;
        if !link.is_empty() {
            assert!(link.ends_with(r#">; rel="next""#), "{link}");
            next = Some(link.trim_start_matches('<').split('>').next().unwrap().to_owned());
        }
        assert!(pages < 100, "pagination does not end");
    }
    (ids_seen, pages)
}

#[tokio::test]
async fn limit_pages_through_the_list_with_link_headers() {
    let app = spawn_app().await;
    let (walt, jesse) = (app.user().await, app.user().await);
    for n in 0..7 {
        app.chirp(if n % 3 == 0 { &jesse } else { &walt }, &format!("chirp {n}"))
            .await;
    }
    for query in [
        "",
        "sort=desc",
        &format!("author_id={}", walt.user_id),
        &format!("author_id={}&sort=desc", walt.user_id),
    ] {
        let whole = ids(&json_body(
            app.get(&format!("/api/chirps?{query}")).send().await.unwrap(),
            StatusCode::OK,
        )
        .await);
        let (paged, pages) = all_pages(&app, &format!("/api/chirps?{query}&limit=2")).await;
        assert_eq!(paged, whole, "pages of {query:?} add up to the whole list, in order");
        assert_eq!(pages, whole.len().div_ceil(2), "{query:?}");
    }
    let resp = app.get("/api/chirps?limit=7").send().await.unwrap();
    assert_eq!(
        crate::helpers::header(&resp, "link"),
        "",
        "no next page after the last chirp"
    );
    assert_eq!(ids(&json_body(resp, StatusCode::OK).await).len(), 7);
}

#[tokio::test]
async fn bad_limits_and_cursors_get_400() {
    let app = spawn_app().await;
    for query in [
        "limit=0",
        "limit=1001",
        "limit=-1",
        "limit=ten",
        "cursor=abc",
        "limit=5&cursor=zz",
        &format!("cursor={}", "g".repeat(48)),
    ] {
        let resp = app.get(&format!("/api/chirps?{query}")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{query}");
        error_message(resp, StatusCode::BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn any_well_formed_cursor_is_answered_even_far_outside_the_databases_range() {
    let app = spawn_app().await;
    let session = app.user().await;
    app.chirp(&session, "the only one").await;
    for (time, expected) in [
        ("7fffffffffffffff", 0),
        ("8000000000000000", 1),
        ("ffffffffffffffff", 1),
        ("0000000000000000", 1),
    ] {
        let cursor = format!("{time}{}", "0".repeat(32));
        let resp = app
            .get(&format!("/api/chirps?cursor={cursor}&limit=10"))
            .send()
            .await
            .unwrap();
        assert_eq!(ids(&json_body(resp, StatusCode::OK).await).len(), expected, "{time}");
    }
}

/// Longer than the page the server streams by, with every chirp posted at the same
/// instant, so page boundaries fall inside runs of equal timestamps.
#[tokio::test]
async fn the_whole_list_streams_across_internal_pages_without_gaps_or_repeats() {
    let app = spawn_app().await;
    let session = app.user().await;
    sqlx::query("insert into chirps (body, user_id, created_at) select 'bulk ' || n, $1, '2026-01-01T00:00:00Z' from generate_series(1, 2345) n")
        .bind(session.user_id)
        .execute(&app.db)
        .await
        .unwrap();
    let mut by_id = app.chirp_ids_in_id_order().await;
    let asc = json_body(app.get("/api/chirps").send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(ids(&asc), by_id);
    let desc = json_body(
        app.get(&format!("/api/chirps?sort=desc&author_id={}", session.user_id))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    by_id.reverse();
    assert_eq!(ids(&desc), by_id);
    let (paged, _) = all_pages(&app, "/api/chirps?sort=desc&limit=1000").await;
    assert_eq!(paged, by_id);
}
