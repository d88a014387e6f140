//! A bare actix-web server: one handler answering a constant JSON body of
//! about the size of a job's, on as many workers as the service uses. It is
//! the floor `benches/http.sh` compares each request of the service with.
//!
//! `bench-bare 127.0.0.1:18500`

use actix_web::{App, HttpResponse, HttpServer, web};

const BODY: &str = r#"{"status":"ok","service":"bare","note":"a constant body of a few hundred bytes, as a small JSON answer of the service","items":[1,2,3,4,5,6,7,8,9,10]}"#;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18500".to_owned());
    HttpServer::new(|| {
        App::new().default_service(web::to(|| async {
            HttpResponse::Ok()
                .content_type("application/json")
                .body(BODY)
        }))
    })
    .bind(bind)?
    .run()
    .await
}
