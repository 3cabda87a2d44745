//! Listeners: one per broker of the cluster.

use crate::api::{Broker, Shared};
use crate::error::Error;
use kcodec_broker::Cluster;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// A running front end: the cluster's brokers listening on TCP.
///
/// Dropping it stops the listeners and closes every connection (so does
/// [`Server::shutdown`], which also waits for them to end). The cluster itself lives on.
#[derive(Debug)]
pub struct Server {
    addrs: Vec<SocketAddr>,
    cluster: Cluster,
    tasks: JoinSet<()>,
}

/// Starts the front end on `cluster`, inside the current tokio runtime: one listener per broker
/// (node ids `0..cluster.brokers()`), broker `i` on `addr`'s IP and, when `addr`'s port is 0,
/// a port of its own chosen by the system, otherwise on `addr`'s port + `i`.
///
/// The brokers advertise the addresses they are bound to (an unspecified IP such as `0.0.0.0`
/// is advertised as loopback).
///
/// # Panics
/// Outside a tokio runtime.
pub async fn serve(cluster: &Cluster, addr: &str) -> Result<Server, Error> {
    let base = tokio::net::lookup_host(addr)
        .await
        .map_err(|source| Error::Resolve {
            addr: addr.to_owned(),
            source,
        })?
        .next()
        .ok_or_else(|| Error::NoAddress(addr.to_owned()))?;
    let brokers = cluster.brokers().max(1);
    let mut listeners = Vec::with_capacity(brokers as usize);
    for node_id in 0..brokers {
        let port = if base.port() == 0 {
            0
        } else {
            u16::try_from(i32::from(base.port()) + node_id).map_err(|_| Error::PortRange {
                port: base.port(),
                brokers,
            })?
        };
        let at = SocketAddr::new(base.ip(), port);
        let listener = TcpListener::bind(at).await.map_err(|source| Error::Bind {
            addr: at,
            node_id,
            source,
        })?;
        let bound = listener.local_addr().map_err(|source| Error::Bind {
            addr: at,
            node_id,
            source,
        })?;
        listeners.push((listener, advertised(bound)));
    }
    let addrs: Vec<SocketAddr> = listeners.iter().map(|(_, a)| *a).collect();
    let shared = Arc::new(Shared::new(cluster.clone(), addrs.clone()));
    let mut tasks = JoinSet::new();
    for (node_id, (listener, _)) in listeners.into_iter().enumerate() {
        let broker = Broker::new(node_id as i32, shared.clone());
        tasks.spawn(accept_loop(listener, broker));
    }
    Ok(Server {
        addrs,
        cluster: cluster.clone(),
        tasks,
    })
}

/// The address clients are told to connect to.
fn advertised(bound: SocketAddr) -> SocketAddr {
    match bound.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), bound.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), bound.port())
        }
        _ => bound,
    }
}

/// Accepts connections until the server stops; the connections are tasks of this one, so
/// aborting it closes them all.
async fn accept_loop(listener: TcpListener, broker: Broker) {
    let broker = Arc::new(broker);
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    conns.spawn(crate::conn::run(stream, broker.clone()));
                }
                // out of file descriptors and the like: the listener itself is fine, so wait
                // for connections to close rather than spin
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

impl Server {
    /// Broker 0's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Every broker's address, by node id.
    pub fn broker_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// `bootstrap.servers` for a client: every broker's `host:port`, comma-separated.
    pub fn bootstrap(&self) -> String {
        let addrs: Vec<String> = self.addrs.iter().map(ToString::to_string).collect();
        addrs.join(",")
    }

    /// The cluster it serves.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// Stops listening and closes every connection (their tasks are aborted and end at
    /// their next await).
    pub async fn shutdown(mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}
