#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#define NC 8
#define QN 65536
static long now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1000000000L+t.tv_nsec;}
typedef struct{int fd;long q[QN];volatile long head,tail;char buf[1<<16];int len,pos;}conn;
static conn C[NC];static long *lat;static volatile long nlat=0;static long measureStart,measureEnd;
static int fill(conn*c){if(c->pos>0&&c->pos<c->len){memmove(c->buf,c->buf+c->pos,c->len-c->pos);}c->len-=c->pos;c->pos=0;int r=recv(c->fd,c->buf+c->len,sizeof(c->buf)-c->len,0);if(r<=0)return -1;c->len+=r;return r;}
static char* line(conn*c){while(1){char*e=memmem(c->buf+c->pos,c->len-c->pos,"\r\n",2);if(e){char*s=c->buf+c->pos;*e=0;c->pos=e+2-c->buf;return s;}if(fill(c)<0)return 0;}}
static int skip(conn*c,long n){while(n>0){if(c->pos==c->len){c->pos=c->len=0;if(fill(c)<0)return -1;}long a=c->len-c->pos;if(a>n)a=n;c->pos+=a;n-=a;}return 0;}
static void* rx(void*a){conn*c=a;while(1){char*l=line(c);if(!l)return 0;long cl=-1;int chunked=0;while((l=line(c))&&*l){if(!strncasecmp(l,"content-length:",15))cl=atol(l+15);if(!strncasecmp(l,"transfer-encoding: chunked",26))chunked=1;}
 if(chunked){while(1){l=line(c);long n=strtol(l,0,16);if(n==0){line(c);break;}skip(c,n);line(c);}}else if(cl>0)skip(c,cl);
 long t=now();long due=c->q[c->head%QN];c->head++;if(due>=measureStart&&due<measureEnd){long i=__sync_fetch_and_add(&nlat,1);lat[i]=t-due;}}}
int cmp(const void*a,const void*b){long x=*(long*)a,y=*(long*)b;return x<y?-1:x>y;}
int main(int argc,char**argv){int port=atoi(argv[1]);double rate=atof(argv[2]);int secs=atoi(argv[3]),warm=atoi(argv[4]);const char*path=argv[5];
 FILE*f=fopen(argv[6],"r");char**ids=malloc(sizeof(char*)*300000);int nid=0;char b[64];while(fgets(b,64,f)){b[strcspn(b,"\n")]=0;ids[nid++]=strdup(b);}
 lat=malloc(sizeof(long)*(long)(rate*secs+10));
 for(int i=0;i<NC;i++){C[i].fd=socket(AF_INET,SOCK_STREAM,0);int one=1;setsockopt(C[i].fd,IPPROTO_TCP,TCP_NODELAY,&one,4);struct sockaddr_in s={.sin_family=AF_INET,.sin_port=htons(port)};inet_pton(AF_INET,"127.0.0.1",&s.sin_addr);if(connect(C[i].fd,(void*)&s,sizeof s)){perror("connect");return 1;}pthread_t t;pthread_create(&t,0,rx,&C[i]);}
 long start=now()+10000000;measureStart=start+warm*1000000000L;measureEnd=measureStart+secs*1000000000L;long total=(long)(rate*(secs+warm));srand(1);
 for(long i=0;i<total;i++){long due=start+(long)(i*1e9/rate);struct timespec ts={due/1000000000L,due%1000000000L};clock_nanosleep(CLOCK_MONOTONIC,TIMER_ABSTIME,&ts,0);
  int best=0;long bo=1L<<60;for(int k=0;k<NC;k++){long o=C[k].tail-C[k].head;if(o<bo){bo=o;best=k;}}conn*c=&C[best];
  char req[256];int n=snprintf(req,256,path,ids[rand()%nid]);char full[512];int m=snprintf(full,512,"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",req);
  c->q[c->tail%QN]=due;__sync_synchronize();c->tail++;send(c->fd,full,m,0);}
 usleep(500000);long N=nlat;qsort(lat,N,8,cmp);printf("n=%ld p50 %.3f p90 %.3f p99 %.3f p99.9 %.3f max %.3f ms\n",N,lat[N/2]/1e6,lat[N*9/10]/1e6,lat[N*99/100]/1e6,lat[N*999/1000]/1e6,lat[N-1]/1e6);}
