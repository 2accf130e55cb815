use opt_bench::problems::nist::Nist;
use opt_core::{Counted, Runner};
use opt_second_order::levenberg_marquardt::{LevenbergMarquardt, LevenbergMarquardtConfig};
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let p = Nist::new(&a[1], a[2].parse().unwrap()).unwrap();
    let c = Counted::new(p.clone());
    let mut s = LevenbergMarquardt::new(LevenbergMarquardtConfig::default()).unwrap();
    let r = Runner::new().max_iters(a.get(3).map_or(1000, |v| v.parse().unwrap())).run(&c, &mut s, p.start()).unwrap();
    println!("{} {} {:?} {:?} lre {}", r.x, r.f, r.stop_reason, s.termination(), p.min_parameter_lre(&r.x));
}
